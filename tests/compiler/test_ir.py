"""The graph IR: lowering, JSON round-trip over every registered type, verify(), weights."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import snnc
from snnc.compiler.ir import catalogue
from snnc.compiler.ir.fields import param_fields, spec_of
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.nodes import Input, Population, Projection
from snnc.compiler.ir.serialize import from_jsonable, registered_types, to_jsonable
from snnc.compiler.ir.synapses import SparseWeights
from snnc.compiler.ir.units import Dim
from tests.conftest import EXAMPLES, MINIMAL, home_target, network


def sample_value(field: dataclasses.Field):
    """A valid value for any catalogue parameter, derived from its ParamSpec."""
    spec = spec_of(field)
    if field.default is not dataclasses.MISSING and field.default is not None:
        return field.default
    if spec.kind == "number":
        return 0.25 if spec.maximum is None or spec.maximum >= 0.25 else spec.maximum
    if spec.kind == "integer":
        return 3
    if spec.kind == "string":
        return "w.npy"
    if spec.kind in ("name", "name_or_string"):
        return spec.choices[0] if spec.choices else "digits"
    entry = catalogue.names(spec.kind)[0]
    return build(catalogue.lookup(spec.kind, entry))


def build(cls):
    return cls(**{f.name: sample_value(f) for f in param_fields(cls)})


@pytest.mark.parametrize("cls", catalogue.all_entries(), ids=lambda c: f"{c.catalogue_kind}:{c.dsl_name}")
def test_every_catalogue_entry_round_trips_through_json(cls):
    instance = build(cls)
    data = json.loads(json.dumps(to_jsonable(instance)))
    assert from_jsonable(data) == instance


def test_every_serializable_type_is_a_frozen_dataclass():
    catalogue.all_entries()
    for name, cls in registered_types().items():
        assert dataclasses.is_dataclass(cls), name
        assert cls.__dataclass_params__.frozen, name


def test_every_catalogue_parameter_declares_its_dimension_and_a_doc_or_obvious_name():
    for cls in catalogue.all_entries():
        assert cls.__doc__, cls
        for field in param_fields(cls):
            assert isinstance(spec_of(field).dim, Dim)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_round_trip_through_json_with_weights(path):
    for result in snnc.check(path, target=home_target(path)):
        ir = result.ir
        arrays: dict[str, np.ndarray] = {}
        data = json.loads(json.dumps(ir.to_dict(arrays)))
        again = NetworkIR.from_dict(data, arrays)
        assert again == ir
        assert again.verify() == []


def test_resolved_ir_is_in_si_units_with_spans():
    body = "    timestep 0.5 ms\n" + MINIMAL + "\n    proj y -> y : dense delay 2 ms"
    [result] = snnc.check("net.snn", text=network(body))
    ir = result.ir
    assert ir.header.timestep == pytest.approx(0.5e-3)
    (x,) = ir.inputs()
    (y,) = ir.populations()
    assert isinstance(x, Input) and x.encoder.t_max == pytest.approx(10e-3)
    assert isinstance(y, Population) and y.model.tau_mem == pytest.approx(5e-3) and y.model.v_th == 1.0
    assert y.span.line == 4 and x.span.line == 3
    delays = {p.name: p.delay for p in ir.projections()}
    assert delays == {"x->y": 0.0, "y->y": pytest.approx(2e-3)}
    assert all(isinstance(p, Projection) and p.span for p in ir.projections())


def test_canonicalize_makes_default_init_explicit_and_rounds_delays():
    text = network("    timestep 1 ms\n" + MINIMAL.replace("dense", "sparse(p = 1) delay 2.4 ms"))
    [result] = snnc.check("net.snn", text=text)
    (projection,) = result.ir.projections()
    assert type(projection.connectivity).dsl_name == "dense"
    assert projection.connectivity.init.sigma == pytest.approx(0.5)  # 1/sqrt(fan_in = 4)
    assert projection.delay == pytest.approx(2e-3)
    assert [d.code for d in result.diagnostics] == ["W203"]


def test_second_projection_between_the_same_pair_gets_its_own_key():
    [result] = snnc.check("net.snn", text=network(MINIMAL + "\n    proj x -> y : dense positive"))
    assert [p.name for p in result.ir.projections()] == ["x->y", "x->y#2"]


def test_neuron_definitions_bind_by_alias_and_allow_overrides():
    text = network("    neuron hw = LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n" + MINIMAL.replace(
        "LIF(tau_mem = 5 ms, tau_syn = 5 ms)", "hw(v_th = 2)"))
    [result] = snnc.check("net.snn", text=text)
    (y,) = result.ir.populations()
    assert y.model_alias == "hw" and y.model.v_th == 2.0 and y.model.tau_mem == pytest.approx(5e-3)


def test_params_with_units_feed_models_and_shapes():
    text = network("    param n = 2 * 3\n    param tau = 4 ms\n" + MINIMAL.replace("y[3]", "y[n]").replace(
        "tau_syn = 5 ms", "tau_syn = tau / 2"))
    [result] = snnc.check("net.snn", text=text)
    (y,) = result.ir.populations()
    assert y.size == 6 and y.model.tau_syn == pytest.approx(2e-3)


def test_train_block_becomes_a_typed_spec_with_defaults():
    [result] = snnc.check("net.snn", text=network(MINIMAL) + "train { epochs 3\n optimizer sgd(lr = 0.1) }")
    train = result.ir.header.train
    assert train.epochs == 3 and train.optimizer.lr == pytest.approx(0.1) and train.batch == 64
    assert train.data == "digits" and train.method is None  # the target's own method


def test_weights_follow_init_sign_and_seed(tmp_path):
    text = network(MINIMAL.replace("dense", "dense(init = normal(0, 1)) negative") +
                   "\n    proj x -> y : sparse(p = 0.5, init = constant(0.3))")
    a = snnc.compile("net.snn", text=text, seed=1).ir.edge_attrs_by_name()
    b = snnc.compile("net.snn", text=text, seed=1).ir.edge_attrs_by_name()
    c = snnc.compile("net.snn", text=text, seed=2).ir.edge_attrs_by_name()
    assert np.array_equal(a["x->y"]["weights"], b["x->y"]["weights"])
    assert not np.array_equal(a["x->y"]["weights"], c["x->y"]["weights"])
    assert (a["x->y"]["weights"] <= 0).all() and a["x->y"]["weights"].dtype == np.float32
    sparse = a["x->y#2"]["weights"]  # its synapses only: 0.3 each, about half of the 4 x 3 pairs
    assert isinstance(sparse, SparseWeights) and sparse.shape == (4, 3) and sparse.problems() == []
    assert 0 < sparse.nnz < 12 and np.array_equal(sparse.values, np.full(sparse.nnz, 0.3, np.float32))
    assert np.array_equal(sparse.to_dense() != 0, sparse.mask()) and sparse.mask().sum() == sparse.nnz
    same = b["x->y#2"]["weights"]
    assert np.array_equal(same.indptr, sparse.indptr) and np.array_equal(same.indices, sparse.indices)


def test_from_file_weights_are_loaded_relative_to_the_program(tmp_path):
    weights = np.arange(12, dtype=np.float64).reshape(4, 3) / 10
    np.save(tmp_path / "w.npy", weights)
    program_path = tmp_path / "net.snn"
    program_path.write_text(network(MINIMAL.replace("dense", 'from_file("w.npy")')))
    ir = snnc.compile(program_path).ir
    assert np.allclose(ir.edge_attrs("x->y")["weights"], weights)


def test_verify_reports_broken_invariants():
    [result] = snnc.check("net.snn", text=network(MINIMAL), target="reference")
    ir = result.ir.copy()
    ir.edge_attrs("x->y")["weights"] = np.zeros((2, 2), np.float32)
    assert any("weights have shape" in p for p in ir.verify())


@pytest.mark.parametrize("post, masked", [(2048, True), (2049, False)], ids=["at_the_limit", "one_past"])
def test_sparse_synapses_of_up_to_mask_pairs_are_a_mask_of_the_pairs_beyond_it_geometric_gaps(post, masked):
    """2048 x 2048 = MASK_PAIRS pairs draw a mask as snnc did before sparse storage (small networks keep their
    synapses); one target more draws the gaps between synapses (the cost of the synapses, not the pairs)."""
    from snnc.compiler.passes.initialize_weights import MASK_PAIRS, draw_synapses, projection_rng

    text = network(f"    input x[2048] : latency(t_max = 5 ms)\n"
                   f"    pop y[{post}] : LI(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : sparse(p = 0.001)\n"
                   "    output y : max_membrane")
    synapses = snnc.compile("net.snn", text=text).ir.edge_attrs("x->y")["weights"]
    assert (2048 * post <= MASK_PAIRS) == masked
    if masked:
        mask = projection_rng(0, "x->y").random((2048, post)) < 0.001
        assert np.array_equal(synapses.mask(), mask)
    else:
        indptr, indices = draw_synapses(0.001, 2048, post, projection_rng(0, "x->y", 1), 1 << 28)
        assert np.array_equal(synapses.indptr, indptr) and np.array_equal(synapses.indices, indices)
    assert 3000 < synapses.nnz < 5400  # ~4,194 expected
