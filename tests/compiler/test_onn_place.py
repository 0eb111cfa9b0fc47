"""place_channels: layers on channel and detector blocks, tiling over time-multiplexed passes, the
named-resource errors, and the report (keys shared with other targets, the HTML channel map)."""

from __future__ import annotations

import json

import numpy as np

from snnc.compiler.backend.artifact import emit
from snnc.compiler.backend.onn_report import channel_contents
from snnc.compiler.ir.onn_records import ModulatorPass, Tile
from tests.compiler.test_onn_legalize import compile_error, compile_onn, net
from tests.compiler.test_onn_target import variant


def test_a_network_that_fits_takes_one_pass_with_disjoint_blocks():
    program = compile_onn(net())
    resources = program.ir.graph.graph["resources"]
    assert resources["channels"] == {"used": 64 * 32 + 32 * 10 * 2, "available": 16384}
    assert resources["detectors"] == {"used": 32 + 20, "available": 256}
    assert resources["passes"] == {"used": 1, "available": 8}
    [first] = program.ir.edge_attrs("img->h")["tiles"]
    [second] = program.ir.edge_attrs("h->out")["tiles"]
    assert first == Tile(pass_index=0, rows=(0, 64), cols=(0, 32), channels=(0, 2048), detectors=(0, 32))
    assert second.channels == (2048, 2048 + 640) and second.detectors == (32, 52)
    assert program.ir.graph.graph["partitions"] == [ModulatorPass(index=0, populations=("h", "out"),
                                                                  projections=("h->out", "img->h"), channels=2688,
                                                                  detectors=52)]


def test_a_layer_larger_than_the_modulator_is_tiled_over_passes(tmp_path):
    path = variant(tmp_path, lambda s: s["resources"].update(channels=1000, detectors=40))
    program = compile_onn(net(hidden=32), path)
    tiles = program.ir.edge_attrs("img->h")["tiles"]
    # 32 detector columns fit; 1000 // 32 = 31 input rows per tile: 3 row blocks cover 64 inputs
    assert [t.rows for t in tiles] == [(0, 31), (31, 62), (62, 64)]
    assert all(t.cols == (0, 32) for t in tiles)
    covered = np.zeros((64, 32), dtype=int)
    for t in tiles:
        covered[t.rows[0]:t.rows[1], t.cols[0]:t.cols[1]] += 1
    assert (covered == 1).all()
    resources = program.ir.graph.graph["resources"]
    assert resources["passes"]["used"] == len(program.ir.graph.graph["partitions"]) > 1
    assert resources["channels"]["used"] <= 1000 and resources["detectors"]["used"] <= 40
    for p in program.ir.graph.graph["partitions"]:
        assert p.channels <= 1000 and p.detectors <= 40


def test_too_large_without_time_multiplexing_names_the_resources(tmp_path):
    path = variant(tmp_path, lambda s: s["resources"].update(channels=1000, max_passes=1))
    text = compile_error(net(), path)
    # the signed layer falls back to the offset scheme (one channel per weight) before this is decided
    assert "error[E606]: the network needs 2,368 channels and 42 detectors, the device has 1,000 channels and 256 " \
           "detectors (resources 'channels', 'detectors'), and time multiplexing is disabled (max_passes: 1)" in text


def test_too_many_passes_names_max_passes(tmp_path):
    path = variant(tmp_path, lambda s: s["resources"].update(channels=500, max_passes=2))
    text = compile_error(net(), path)
    assert "more than 2 passes (resource 'max_passes')" in text and "net.snn:5:5" in text


def test_a_cycle_is_rejected_at_the_projection():
    text = compile_error(net().replace("output out", "proj out -> h : dense positive\n    output out"))
    assert "closes a cycle; an optical network runs its layers one after another, so it must be feed-forward" in text


def test_unsupported_models_are_reported_by_the_target():
    text = compile_error(net().replace("pop    out[10]  : linear", "pop    out[10]  : LI(tau_mem = 5 ms, "
                                       "tau_syn = 5 ms)").replace("out : value", "out : max_membrane"))
    assert "target 'onn' does not support neuron model 'LI' (it supports photon_detector, linear)" in text
    assert "target 'onn' does not support readout 'max_membrane' (it supports value)" in text


def test_report_has_the_shared_keys_and_an_html_channel_map():
    program = compile_onn(net())
    files = emit(program)
    report = json.loads(files["report.json"])
    assert set(report["resources"]) >= {"channels", "detectors"}
    assert report["projections"]["h->out"]["encoding"] == "differential"
    assert "quant_rmse" in report["projections"]["img->h"] and report["populations"]["h"]["detectors"] == 32
    html = files["report.html"].decode()
    assert html.count('src="data:image/png;base64,') == 1 and "Channel map" in html
    assert files["channel_map.png"].startswith(b"\x89PNG")
    passes, index, owner, transmission, detectors = channel_contents(program)
    assert passes == 1 and (owner[0] == index["img->h"]).sum() == 64 * 32
    assert (detectors[0] == index["h->out"]).sum() == 20
    levels = program.ir.edge_attrs("img->h")["transmissions"].levels[0]
    np.testing.assert_allclose(transmission[0, :64 * 32], levels.ravel() / 255.0, rtol=1e-6)


def test_report_html_escapes_names():
    program = compile_onn(net())
    program.source["path"] = "<script>x</script>.snn"
    html = emit(program)["report.html"].decode()
    assert "<script>x" not in html and "&lt;script&gt;x&lt;/script&gt;.snn" in html
