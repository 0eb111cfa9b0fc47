"""Honest reports (issue 13, item 6): every column explained, every chip of a multi-chip program pictured."""

from __future__ import annotations

import io

import matplotlib.image
import pytest

import snnc
from snnc.compiler.backend.bss2_report import synapse_png
from snnc.compiler.backend.report import COLUMNS, build_report, glossary, render_markdown
from tests.conftest import EXAMPLES, REPO, home_target

# latency_digits without its delay (bss2 programs none): 2 chips
TWO_CHIPS = (REPO / "dsl_examples" / "latency_digits.snn").read_text().replace(" delay 1 ms", "")


def reports():
    for path in EXAMPLES:
        for result in snnc.check(path):
            yield build_report(snnc.compile(path, network=result.ir.name, target=home_target(path)))
    yield build_report(snnc.compile("two.snn", text=TWO_CHIPS, target="bss2", chips=2))


def test_every_column_of_every_report_is_explained():
    for report in reports():
        columns = set(report["resources"])
        for section in ("populations", "projections"):
            for entry in report[section].values():
                columns.update(entry)
        assert columns <= set(COLUMNS), columns - set(COLUMNS)
        assert {key for key, _ in glossary(report)} >= columns


def test_the_markdown_report_lists_what_its_columns_mean():
    report = build_report(snnc.compile(REPO / "dsl_examples" / "latency_digits_ff.snn", target="bss2"))
    text = render_markdown(report)
    columns = text[text.index("## Columns"):].splitlines()
    assert "- `scale`: " + COLUMNS["scale"] in columns
    assert ("- `quant_rmse`: root-mean-square difference between the deployed (quantized) and the model weights, in "
            "model units over the existing synapses (0: exact)") in columns
    assert "- `quant_max`: the largest absolute difference between a deployed and a model weight, in model units" \
        in columns
    assert "- `photons_per_mac`" not in text  # only the columns this report has


@pytest.fixture(scope="module")
def two_chips(tmp_path_factory):
    out = tmp_path_factory.mktemp("chips") / "two"
    return snnc.compile("two.snn", text=TWO_CHIPS, target="bss2", chips=2, out=out), out


def test_a_multi_chip_report_pictures_every_chip(two_chips):
    program, out = two_chips
    html = (out / "report.html").read_text()
    assert html.count("<figure>") == 2
    for chip in (0, 1):
        assert (f"Synapse arrays of chip {chip} in partition 0 (of 1 partition, 2 chips in it): colour = "
                "projection") in html
    heights = [matplotlib.image.imread(io.BytesIO(synapse_png(program, 0, chip)), format="png").shape[0]
               for chip in (0, 1)]
    stacked = matplotlib.image.imread(out / "report.png")
    assert stacked.shape[0] == sum(heights)  # report.png: chip 0 above chip 1


def test_a_report_pictures_at_most_max_pictures_chips_and_says_so(two_chips, monkeypatch):
    from snnc.compiler.backend import bss2_report
    from snnc.compiler.backend.report import build_report

    program, _ = two_chips
    monkeypatch.setattr(bss2_report, "MAX_PICTURES", 1)
    html = bss2_report.render_bss2_report(program, build_report(program))["report.html"].decode()
    assert html.count("<figure>") == 2  # the one chip pictured, and every chip's utilization
    assert "How full each of the 2 chips is" in html
    assert ("The other 1 chip pictures are left out (a report pictures at most 1 chips; `synapse_png(program, "
            "partition, chip)` draws any).") in html
