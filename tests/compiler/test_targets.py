"""Target YAML loading: shipped targets load; a user's file is validated with key paths."""

from __future__ import annotations

import pytest

from snnc.compiler.families import load_target
from snnc.compiler.targets import builtin_targets
from snnc.compiler.targets.schema import AnyOf, Choice, ListOf, OpenMapping, Optional, validate
from snnc.diagnostics import SnncError

REFERENCE_YAML = """\
name: my_reference
description: a user's variant
family: digital
time_scale: 1.0
supports:
  neuron_models: [LIF, LI]
resources: {}
"""


def errors(path) -> str:
    with pytest.raises(SnncError) as info:
        load_target(str(path))
    return info.value.render()


def test_reference_target_loads():
    target = load_target("reference")
    assert target.family.name == "digital" and target.substrate is None and "reference" in builtin_targets()


def test_user_yaml_loads_by_path(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(REFERENCE_YAML)
    target = load_target(str(path))
    assert target.name == "my_reference" and target.spec["supports"]["neuron_models"] == ["LIF", "LI"]


def test_schema_errors_name_the_key_path(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(REFERENCE_YAML.replace("time_scale: 1.0", "time_scale: fast")
                    .replace("neuron_models: [LIF, LI]", "neuron_model: [LIF]\n  encoders: [1]"))
    rendered = errors(path)
    assert "time_scale: expected a number, got 'fast'" in rendered
    assert "supports.neuron_model: unknown key (did you mean 'neuron_models'?)" in rendered
    assert "supports.encoders: expected 'all' or a list of strings, got a list" in rendered


def test_missing_keys_and_unknown_family(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nfamily: quantum\n")
    rendered = errors(path)
    assert "description: missing" in rendered
    assert "family: expected one of 'bss2', 'digital', 'onn', got 'quantum'" in rendered


def test_the_old_key_pipeline_is_named_with_its_new_name(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text(REFERENCE_YAML.replace("family: digital", "pipeline: digital"))
    assert errors(path).splitlines() == [
        f"error[E202]: target '{path}': pipeline: this key is now called 'family' (write 'family: digital')"]


def test_invalid_yaml_points_at_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    assert f"{path}:2:1: error[E201]: target file is not valid YAML" in errors(path)


def test_unknown_target_name_and_missing_file(tmp_path):
    assert "unknown target 'refrence' (did you mean 'reference'?)" in errors("refrence")
    assert "does not exist" in errors(tmp_path / "none.yaml")


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo hi']\n")
    assert "not valid YAML" in errors(path)


def test_schema_validator_combinators():
    schema = {"a": int, Optional("b"): ListOf(str), "c": AnyOf((Choice(("x",)), float)), "d": OpenMapping(int)}
    assert validate({"a": 1, "c": "x", "d": {"k": 2}}, schema) == []
    assert validate({"a": True, "c": 2, "d": {"k": "v"}, "e": 0}, schema) == [
        "a: expected an integer, got True", "d.k: expected an integer, got 'v'", "e: unknown key"]
