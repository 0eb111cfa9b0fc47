"""Target YAML loading: shipped targets load; a user's file is validated with key paths."""

from __future__ import annotations

import pytest

from snnc.compiler.families import load_target
from snnc.compiler.targets import builtin_targets
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
    assert "supports.encoders: expected 'all' or a list of strings, got [1]" in rendered


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


def test_duplicate_keys_are_errors_with_line_and_column(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text(REFERENCE_YAML + "time_scale: 2.0\n")
    assert f"{path}:8:1: error[E201]: target file is not valid YAML: duplicate key 'time_scale' (first at line 4, " \
           "column 1)" in errors(path)
    path.write_text(REFERENCE_YAML.replace("  neuron_models: [LIF, LI]", "  encoders: all\n  encoders: all"))
    assert f"{path}:7:3: error[E201]: target file is not valid YAML: duplicate key 'encoders'" in errors(path)


def test_anchors_and_aliases_are_refused(tmp_path):
    path = tmp_path / "alias.yaml"
    path.write_text(REFERENCE_YAML + "noise: {a: &x [1, 2]}\nextra: *x\n")
    assert "anchors and aliases (*name) are not supported in target files" in errors(path)


@pytest.mark.parametrize("text,message", [
    (".nan", "time_scale: must be finite, got nan"),
    (".inf", "time_scale: must be finite, got inf"),
    ("-5", "time_scale: must be > 0, got -5"),
    ("0", "time_scale: must be > 0, got 0"),
    ("true", "time_scale: expected a number, got True"),
])
def test_the_digital_family_checks_its_values(tmp_path, text, message):
    path = tmp_path / "digital.yaml"
    path.write_text(REFERENCE_YAML.replace("time_scale: 1.0", f"time_scale: {text}"))
    assert message in errors(path)


def test_digital_noise_and_resources_hold_finite_numbers(tmp_path):
    path = tmp_path / "digital.yaml"
    path.write_text(REFERENCE_YAML + "noise: {weight_mismatch: -0.5, jitter: .nan}\n")
    rendered = errors(path)
    assert "noise.weight_mismatch: must be >= 0, got -0.5" in rendered
    assert "noise.jitter: must be finite, got nan" in rendered
    path.write_text(REFERENCE_YAML.replace("resources: {}", "resources: {neurons: .inf}"))
    assert "resources.neurons" in errors(path) and "got inf" in errors(path)


def test_a_huge_target_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(REFERENCE_YAML + "# " + "x" * (1 << 20) + "\n")
    assert "a target file has at most 1,048,576" in errors(path)
    path.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "error" in errors(path)
