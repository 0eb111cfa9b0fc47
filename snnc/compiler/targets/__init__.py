"""Targets: YAML resource models of substrates, shipped here or loaded from a user's path."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from snnc.compiler.targets.schema import AnyOf, Choice, ListOf, OpenMapping, Optional, validate
from snnc.diagnostics import SnncError, Span, did_you_mean, error

TARGET_DIR = Path(__file__).parent

_NAME_LIST = AnyOf((Choice(("all",)), ListOf(str)))

# Keys every target has; `pipeline` selects the extra keys a family needs (PIPELINE_SCHEMAS).
BASE_SCHEMA: dict = {
    "name": str,
    "description": str,
    "pipeline": str,
    "time_scale": float,
    "supports": {
        Optional("neuron_models"): _NAME_LIST,
        Optional("encoders"): _NAME_LIST,
        Optional("readouts"): _NAME_LIST,
        Optional("max_delay"): float,
    },
    Optional("resources"): OpenMapping(AnyOf((int, float, str, bool, OpenMapping((int, float, str, bool))))),
    Optional("noise"): OpenMapping(AnyOf((int, float, OpenMapping((int, float))))),
}

# Families register the exact schema they need; a family without an entry uses BASE_SCHEMA.
PIPELINE_SCHEMAS: dict[str, dict] = {}
# Families may also check values the schema cannot (counts >= 1, ordered ranges): spec -> problems.
PIPELINE_CHECKS: dict[str, Callable[[dict], list[str]]] = {}


@dataclass(frozen=True)
class Target:
    """A loaded, validated target description."""

    name: str
    pipeline: str
    description: str
    spec: dict[str, Any]
    path: str
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "pipeline": self.pipeline, "path": self.path, "sha256": self.sha256,
                "spec": self.spec}


def builtin_targets() -> list[str]:
    return sorted(p.stem for p in TARGET_DIR.glob("*.yaml"))


def load_target(name_or_path: str) -> Target:
    """A shipped target by name (`bss2`), or a YAML file by path; SnncError on any problem."""
    path = Path(name_or_path)
    if name_or_path in builtin_targets():
        path = TARGET_DIR / f"{name_or_path}.yaml"
    elif path.suffix not in (".yaml", ".yml"):
        raise SnncError([error("E200", f"unknown target '{name_or_path}'"
                               f"{did_you_mean(name_or_path, builtin_targets())}; known targets: "
                               f"{', '.join(builtin_targets())}, or a path to a .yaml file")])
    shown = str(path) if path.parent != TARGET_DIR else f"{path.stem} (built in)"
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
    except FileNotFoundError:
        raise SnncError([error("E201", f"target file '{path}' does not exist")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SnncError([error("E201", f"cannot read target file '{path}': {exc}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        span = Span(str(path), mark.line + 1, mark.column + 1) if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SnncError([error("E201", f"target file is not valid YAML: {problem}", span)]) from None
    problems = validate(data, _schema_for(data))
    if not problems and data["pipeline"] in PIPELINE_CHECKS:
        problems = PIPELINE_CHECKS[data["pipeline"]](data)
    if problems:
        raise SnncError([error("E202", f"target '{shown}': {p}") for p in problems])
    return Target(name=data["name"], pipeline=data["pipeline"], description=data["description"],
                  spec=data, path=str(path), sha256=hashlib.sha256(raw).hexdigest())


def _schema_for(data: Any) -> dict:
    from snnc.compiler.pipeline import PIPELINES  # the pipelines decide which families exist

    if not isinstance(data, dict):
        return BASE_SCHEMA
    pipeline = data.get("pipeline")
    if isinstance(pipeline, str) and pipeline not in PIPELINES:
        return {**BASE_SCHEMA, "pipeline": Choice(tuple(sorted(PIPELINES)))}
    return PIPELINE_SCHEMAS.get(pipeline, BASE_SCHEMA)
