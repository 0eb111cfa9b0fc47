"""A program compiled or trained from a .nir file names the .nir file as its source (not the temporary .snn
it was converted to), with how it was read, so that it can be deployed onto another target later."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

import snnc
from snnc.cli import run
from snnc.compiler.ir.synapses import as_dense
from snnc.diagnostics import SnncError
from snnc.interop.nir_export import export_nir
from snnc.interop.nir_import import import_nir
from snnc.interop.nir_source import retarget_nir
from snnc.interop.options import ImportOptions
from snnc.runtime.deployment import deploy
from tests.interop.conftest import spike_trains
from tests.interop.test_nir_export import CHIP

STEPS = 15  # of the spike data: the import takes them from there (no --steps)


@pytest.fixture
def model(tmp_path):
    """A .nir file (snnc's export of CHIP, which bss2 takes too) and spike data (N, T, C) for it in an .npz."""
    (tmp_path / "net.snn").write_text(CHIP)
    export_nir(snnc.compile(tmp_path / "net.snn"), tmp_path / "net.nir")
    (tmp_path / "net.snn").unlink()  # the .nir file is the source from here on
    np.savez(tmp_path / "spikes.npz", x=spike_trains(24, STEPS, 16, p=0.4), y=np.arange(24) % 3)
    return tmp_path / "net.nir", tmp_path / "spikes.npz"


def recorded(path) -> dict:
    return {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "nir": {"dt": None, "steps": STEPS, "readout": None, "reset": "auto"}}


def test_a_program_trained_from_a_nir_file_names_it_as_its_source(model, tmp_path):
    path, data = model
    assert run(["-q", "train", str(path), "--data", str(data), "--epochs", "1", "--batch", "8",
                "-o", str(tmp_path / "trained")]) == 0
    trained = snnc.load(tmp_path / "trained")
    assert trained.source == recorded(path)
    for name in ("program.json", "report.json"):
        document = json.loads((tmp_path / "trained" / name).read_text())
        assert document["source"] == recorded(path)
    # trained as the converted .snn file trains: the same weights
    import_nir(path, tmp_path / "imported.snn", ImportOptions(steps=STEPS))
    result = snnc.train(path, data=data, epochs=1, batch=8)
    of_snn = snnc.train(tmp_path / "imported.snn", data=data, epochs=1, batch=8)
    assert result.program.source == recorded(path)
    assert sorted(result.weights) == sorted(of_snn.weights) == ["h->o", "x->h"]
    initial = snnc.compile(path, nir=ImportOptions(steps=STEPS)).ir.edge_attrs_by_name()
    for key, weights in result.weights.items():
        assert np.array_equal(weights.numpy(), of_snn.weights[key].numpy()), key
        assert not np.array_equal(weights.numpy(), initial[key]["weights"]), key  # trained: they moved
        assert np.array_equal(as_dense(trained.ir.edge_attrs_by_name()[key]["weights"])[0], weights.numpy()), key


def test_a_program_from_a_nir_file_deploys_onto_another_target_read_as_it_was(model, tmp_path):
    path, data = model
    trained = snnc.train(path, data=data, epochs=1, batch=8, out=tmp_path / "trained")
    assert trained.program.target.name == "reference"
    deployed = retarget_nir(tmp_path / "trained", "bss2", None)
    assert deployed.target.name == "bss2" and deployed.ir.header.steps == STEPS  # read as it was: 15 steps
    assert deployed.source == recorded(path) and deployed.ir.graph.graph["training"]["deployed_from"] == "reference"
    trained_weights = trained.program.ir.edge_attrs_by_name()
    for key, attrs in deployed.ir.edge_attrs_by_name().items():  # the trained weights, not drawn again
        assert np.array_equal(as_dense(attrs["weights"])[0], as_dense(trained_weights[key]["weights"])[0]), key
    result = snnc.run(tmp_path / "trained", data=data, target="bss2")  # what `snnc run DIR --target bss2` does
    on_deployed = snnc.run(deployed, data=data)
    assert result.target == "bss2" and np.array_equal(result.predictions, on_deployed.predictions)
    assert np.array_equal(result.scores, on_deployed.scores)
    # the runtime alone cannot read a NIR graph: a clear refusal, not a parse error of its bytes
    with pytest.raises(SnncError, match=r"E460.*is a NIR graph \(deploy it with snnc.run or snnc.train\)"):
        deploy(trained.program, "bss2")
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(SnncError, match="E460.*changed since it was compiled"):
        snnc.run(tmp_path / "trained", data=data, target="bss2")
