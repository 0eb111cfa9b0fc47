"""The bss2 placement report: report.json's stable keys, the synapse-array picture, the self-contained
report.html (checked in headless Chromium when it is installed), and the command line around it."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

import snnc
from snnc.cli import run
from snnc.compiler.backend.bss2_report import synapse_arrays
from tests.conftest import REPO

FEED_FORWARD = (REPO / "dsl_examples" / "latency_digits.snn").read_text().replace(
    "    proj hidden -> hidden : sparse(p = 0.1, init = normal(0, 0.02)) delay 1 ms\n", "")


def assert_tables(html: str) -> None:
    """The resource, estimate, routing and partition tables, and the population and projection tables."""
    assert '<table id="resources">' in html and '<table id="partitions">' in html
    assert '<table id="estimates">' in html and "32,258" in html and "6.2 uJ" in html
    assert '<table id="routing">' in html and "<td>hidden-&gt;out, pixels-&gt;hidden</td>" in html
    assert html.count('title="32 / 32"') == 8  # every PADI bus's drivers in use
    assert "<h2>Populations</h2>" in html and "<h2>Projections</h2>" in html
    assert "<td>hidden</td>" in html and "<td>hidden-&gt;out</td>" in html
    assert "130,872 / 131,072 (99.8%)" in html


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "net.bss2"
    program = snnc.compile("digits<ff>.snn", text=FEED_FORWARD, target="bss2", out=out)
    return program, out


def test_report_json_keeps_its_keys(compiled):
    _, out = compiled
    report = json.loads((out / "report.json").read_text())
    assert report["target"] == "bss2" and report["diagnostics"] == []
    for name in ("neuron_circuits", "synapse_rows", "synapse_drivers", "synapses"):
        assert set(report["resources"][name]) == {"used", "available"}
    assert report["resources"]["synapse_drivers"] == {"used": 256, "available": 256}
    hidden = report["populations"]["hidden"]
    assert (hidden["neurons"], hidden["circuits_per_neuron"], hidden["circuits"]) == (246, 2, 492)
    projection = report["projections"]["hidden->out"]
    assert projection["rows"] == 492 and projection["scale"] > 0
    assert 0 < projection["quant_rmse"] <= projection["quant_max"] <= 0.5 / projection["scale"] + 1e-9
    assert report["partitions"][0]["populations"] == ["hidden", "out"]
    routing = report["routing"]
    assert (routing["drivers_per_bus"], routing["labels_per_group"], routing["groups_per_bus"]) == (32, 64, 32)
    assert [(b["hemisphere"], b["bus"], b["drivers_used"], b["sources"]) for b in routing["buses"]] == [
        (h, bus, 32, 59 if bus == 3 else 64) for h in (0, 1) for bus in range(4)]
    assert routing["buses"][0]["projections"] == ["hidden->out", "pixels->hidden"]
    assert routing["buses"][0]["groups"] == [{"drivers": list(range(0, 128, 4)), "exc_rows": 32, "inh_rows": 32,
                                              "sources": 64, "internal": 32}]
    assert report["estimates"]["input_events"] == 256 and report["estimates"]["partitions"] == 1
    markdown = (out / "report.md").read_text()
    assert "## Estimates on the chip\n\n32,258 samples/s, 6.2 uJ per sample at 0.2 W" in markdown
    assert "| 0 | 0 | 1 | 3 | 32 / 32 | 59 | 32, 32/32, 59, 27 | hidden->out, pixels->hidden |" in markdown


def test_picture_shows_every_used_synapse_of_both_arrays(compiled):
    program, out = compiled
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    owner, magnitude, column_owner = synapse_arrays(program)
    assert owner.shape == (2, 256, 256)
    assert int((owner >= 0).sum()) == program.ir.graph.graph["resources"]["synapses"]["used"]
    assert (column_owner >= 0).all()  # all 512 circuits hold a neuron
    assert 0 <= magnitude.min() and magnitude.max() == 1.0  # the largest weight is the full 63


def test_html_is_self_contained_and_escaped(compiled):
    _, out = compiled
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "http://" not in html and "https://" not in html
    assert "digits&lt;ff&gt;.snn" in html and "digits<ff>" not in html
    assert_tables(html)


def test_html_renders_in_headless_chromium(compiled):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("headless Chromium is not installed (Debian package `chromium`)")
    _, out = compiled
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--dump-dom", (out / "report.html").resolve().as_uri()],
            capture_output=True, text=True, timeout=120)
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert_tables(dom)
    assert 'style="width: 100.0%"' in dom  # the utilization bar of a full resource


def recurrent_without_delay(tmp_path) -> Path:
    """latency_digits.snn without its delay, which bss2 cannot program."""
    path = tmp_path / "latency_digits.snn"
    path.write_text((REPO / "dsl_examples" / "latency_digits.snn").read_text().replace(" delay 1 ms", ""))
    return path


def test_cli_compile_with_chips_and_report_summary(tmp_path, capsys):
    source = recurrent_without_delay(tmp_path)
    out = tmp_path / "ld"
    assert run(["compile", str(source), "--target", "bss2", "--chips", "2", "-o", str(out)]) == 0
    assert "neuron_circuits  758 / 1,024" in capsys.readouterr().out
    assert run(["report", str(out)]) == 0
    summary = capsys.readouterr().out
    assert summary.startswith("latency_digits on bss2") and "1 partition" in summary
    assert run(["compile", str(source), "--target", "bss2", "--chips", "0", "-o", str(out)]) == 2
    assert "snnc compile: error: --chips must be an integer from 1 to 16,384, got 0" in capsys.readouterr().err
    assert run(["compile", str(source), "--target", "bss2", "-o", str(tmp_path / "one")]) == 1
    assert "compile with --chips 2" in capsys.readouterr().err


def test_loaded_program_keeps_the_placement(compiled):
    program, out = compiled
    loaded = snnc.load(out)
    for name in ("hidden", "out"):
        assert np.array_equal(loaded.ir.node_attrs(name)["placement"].circuits,
                              program.ir.node_attrs(name)["placement"].circuits)
    assert loaded.ir.edge_attrs("pixels->hidden")["legalization"].hw_weights.dtype == np.int16
    assert loaded.ir.graph.graph["partitions"] == program.ir.graph.graph["partitions"]


def test_cli_check_places_over_the_chips_it_is_given(tmp_path, capsys):
    source = str(recurrent_without_delay(tmp_path))
    assert run(["check", source, "--target", "bss2"]) == 1
    assert "does not fit: needs 738 neuron circuits" in capsys.readouterr().err
    assert run(["check", source, "--target", "bss2", "--chips", "2"]) == 0
    assert "network 'latency_digits' ok" in capsys.readouterr().out
    assert run(["check", source, "--target", "bss2", "--chips", "0"]) == 2
    assert capsys.readouterr().err == "snnc check: error: --chips must be an integer from 1 to 16,384, got 0\n"
    with pytest.raises(ValueError, match="chips must be an integer"):
        snnc.check(source, target="bss2", chips=0)


def test_many_chips_are_one_utilization_picture():
    """2,600 neurons of one circuit each on 6 chips (512 circuits a chip): five full chips and 40 circuits;
    the rows and drivers per chip add up to what the resource accounting counts."""
    from snnc.compiler.backend.bss2_report import render_bss2_report
    from snnc.compiler.backend.bss2_utilization import chip_usage
    from snnc.compiler.backend.report import build_report
    from tests.conftest import network

    program = snnc.compile("net.snn", target="bss2", chips=8, text=network("""
    input x[100] : latency(t_max = 10 ms)
    pop h[2600] : LIF(tau_mem = 6 ms, tau_syn = 6 ms, refractory = 1 ms)
    proj x -> h : sparse(p = 0.05, init = normal(0, 0.2))
    output h : spike_count"""))
    usage = chip_usage(program, 0)
    assert usage.shape == (3, 6)
    np.testing.assert_allclose(usage[0], [1, 1, 1, 1, 1, 40 / 512])
    resources = program.ir.graph.graph["resources"]
    assert round(float(usage[1].sum()) * 512) == resources["synapse_rows"]["used"]
    assert round(float(usage[2].sum()) * 256) == resources["synapse_drivers"]["used"]
    html = render_bss2_report(program, build_report(program))["report.html"].decode()
    assert "How full each of the 6 chips is" in html and html.count("data:image/png;base64,") == 5
