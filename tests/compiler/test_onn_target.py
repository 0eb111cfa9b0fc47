"""The onn target YAML: it loads, a user's variant may change its numbers, and wrong keys or values are
reported with their key path."""

from __future__ import annotations

import yaml

from snnc.compiler.families import load_target
from snnc.compiler.targets import TARGET_DIR
from snnc.compiler.targets.onn import Optics
from tests.compiler.test_bss2_target import rendered_errors


def variant(tmp_path, change) -> str:
    """A user's copy of onn.yaml with `change(spec)` applied; returns its path."""
    spec = yaml.safe_load((TARGET_DIR / "onn.yaml").read_text())
    change(spec)
    path = tmp_path / "my_onn.yaml"
    path.write_text(yaml.safe_dump(spec))
    return str(path)


def test_onn_target_loads_with_its_resources():
    target = load_target("onn")
    optics = target.substrate
    assert target.family.name == "onn" and optics == Optics.from_spec(target.spec)
    assert (optics.channels, optics.modulator_bits, optics.detectors) == (16384, 8, 256)
    assert optics.levels == 255 and optics.max_count == 65535
    assert 0 < optics.detector_efficiency <= 1 and optics.signed_weights == "auto"


def test_a_user_yaml_changes_the_numbers(tmp_path):
    path = variant(tmp_path, lambda s: s["resources"].update(channels=1024, modulator_bits=4))
    optics = load_target(path).substrate
    assert (optics.channels, optics.levels) == (1024, 15)


def test_unknown_and_missing_keys_are_named(tmp_path):
    def change(spec):
        spec["resources"]["chanels"] = spec["resources"].pop("channels")

    text = rendered_errors(variant(tmp_path, change))
    assert "resources.channels: missing" in text
    assert "resources.chanels: unknown key (did you mean 'channels'?)" in text


def test_values_that_make_no_device_are_named(tmp_path):
    def change(spec):
        spec["resources"]["detectors"] = 0
        spec["noise"]["detector_efficiency"] = 1.5
        spec["resources"]["signed_weights"] = "mirror"

    text = rendered_errors(variant(tmp_path, change))
    assert "resources.signed_weights: expected one of 'auto', 'differential', 'offset', got 'mirror'" in text
    spec_ok = variant(tmp_path, lambda s: (s["resources"].update(detectors=0),
                                           s["noise"].update(detector_efficiency=1.5)))
    text = rendered_errors(spec_ok)
    assert "resources.detectors: must be >= 1, got 0" in text
    assert "noise.detector_efficiency: must be <= 1, got 1.5" in text
