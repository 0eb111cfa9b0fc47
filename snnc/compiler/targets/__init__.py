"""Targets: YAML resource models of substrates, shipped here or loaded from a user's path.

A target's YAML names its substrate family (`family: bss2`); the family's record says which schema the
YAML must match, which passes compile for it and how its substrate model (a `Chip`, an `Optics`) is
built. The records are made in `snnc/compiler/families.py`, which also loads targets (`load_target`):
this module sits below the passes, so it is handed the families rather than importing them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, StrictStr, create_model

from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.targets.bss2 import Chip
from snnc.compiler.targets.onn import Optics
from snnc.compiler.targets.schema import (
    MAX_QUANTITY,
    MAX_TARGET_BYTES,
    Names,
    Supports,
    TargetBase,
    by_type,
    load_yaml,
    number,
)
from snnc.compiler.targets.schema import problems as schema_problems
from snnc.diagnostics import SnncError, Span, did_you_mean, error

TARGET_DIR = Path(__file__).parent

SCALARS = dict(integer=StrictInt, number=number(-MAX_QUANTITY), string=StrictStr, boolean=StrictBool)
Scalar = by_type(**SCALARS)


class OpenSupports(Supports):
    """A digital target may leave out what it supports: then it supports everything."""

    neuron_models: Names = "all"
    encoders: Names = "all"
    readouts: Names = "all"


class DigitalTarget(TargetBase):
    """A digital target's YAML: no resource model, so `resources` and `noise` are free, but their numbers
    are finite (noise figures >= 0)."""

    family: Literal["digital"]
    supports: OpenSupports
    resources: dict[str, by_type(**SCALARS, mapping=dict[str, Scalar])] = {}
    noise: dict[str, by_type(number=number(0.0), mapping=dict[str, number(0.0)])] = {}


class UnknownFamily(TargetBase):
    """What a file whose family is none of the known ones is checked against (family names listed)."""

    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)
    family: str


Substrate = Chip | Optics | None


class PassLike(Protocol):
    """A pass as a family lists it: snnc.compiler.passes.base.Pass, named by its shape here because
    targets sit below the passes."""

    name: ClassVar[str]

    def apply(self, ir: NetworkIR, ctx: Any) -> NetworkIR: ...


def no_value_problems(spec: dict) -> list[str]:
    return []


def no_program_problems(ir: NetworkIR, target: Any) -> list[tuple[str, str]]:
    return []


@dataclass(frozen=True)
class Family:
    """A substrate family: everything that differs between digital, bss2 and onn targets, named once."""

    name: str  # what a target YAML's `family:` says
    schema: type[BaseModel]  # the exact schema of its targets' YAML (a model on targets/schema.py's TargetBase)
    passes: tuple[PassLike, ...]  # the pass pipeline, in order
    build_substrate: Callable[[dict, int | None], Substrate]  # (validated spec, --chips) -> the model
    value_problems: Callable[[dict], list[str]] = no_value_problems  # what the schema cannot check
    # What a compiled program read back must hold for this family: (key path, phrase) pairs (program_checks.py)
    program_problems: Callable[[NetworkIR, Any], list[tuple[str, str]]] = no_program_problems
    renderer: str | None = None  # "module:function" adding report files, imported on use (matplotlib)
    emulator: str | None = None  # "module:Class" in snnc.runtime, imported there: the compiler never is

    @property
    def pass_names(self) -> list[str]:
        return [p.name for p in self.passes]


@dataclass(frozen=True)
class Target:
    """A loaded, validated target: its YAML, its family and its substrate model, built once at load."""

    name: str
    family: Family
    description: str
    spec: dict[str, Any]
    path: str
    sha256: str
    chips: int | None = None  # `--chips` as given; None: the target's own count
    substrate: Substrate = None  # bss2: Chip (with the chips applied), onn: Optics, digital: None

    def to_dict(self) -> dict[str, Any]:
        """program.json's target record."""
        return {"name": self.name, "family": self.family.name, "path": self.path, "sha256": self.sha256,
                "chips": self.chips, "spec": self.spec}


def builtin_targets() -> list[str]:
    return sorted(p.stem for p in TARGET_DIR.glob("*.yaml"))


def read_target(name_or_path: str, families: Mapping[str, Family], chips: int | None = None) -> Target:
    """A shipped target by name (`bss2`), or a YAML file by path, validated against its family's schema;
    SnncError on any problem. `chips` must already be checked (families.load_target does)."""
    path = Path(name_or_path)
    if name_or_path in builtin_targets():
        path = TARGET_DIR / f"{name_or_path}.yaml"
    elif path.suffix not in (".yaml", ".yml"):
        raise SnncError([error("E200", f"unknown target '{name_or_path}'"
                               f"{did_you_mean(name_or_path, builtin_targets())}; known targets: "
                               f"{', '.join(builtin_targets())}, or a path to a .yaml file")])
    shown = str(path) if path.parent != TARGET_DIR else f"{path.stem} (built in)"
    try:
        if path.is_file() and path.stat().st_size > MAX_TARGET_BYTES:
            raise OSError(f"{path.stat().st_size:,} bytes; a target file has at most {MAX_TARGET_BYTES:,}")
        raw = path.read_bytes()
        data = load_yaml(raw.decode("utf-8"))
    except FileNotFoundError:
        raise SnncError([error("E201", f"target file '{path}' does not exist")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SnncError([error("E201", f"cannot read target file '{path}': {exc}")]) from None
    except RecursionError:
        raise SnncError([error("E201", f"target file '{path}' is nested too deeply")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        span = Span(str(path), mark.line + 1, mark.column + 1) if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SnncError([error("E201", f"target file is not valid YAML: {problem}", span)]) from None
    problems = spec_problems(data, families)
    if problems:
        raise SnncError([error("E202", f"target '{shown}': {p}") for p in problems])
    family = families[data["family"]]
    return Target(name=data["name"], family=family, description=data["description"], spec=data, path=str(path),
                  sha256=hashlib.sha256(raw).hexdigest(), chips=chips, substrate=family.build_substrate(data, chips))


def spec_problems(data: Any, families: Mapping[str, Family]) -> list[str]:
    """Everything wrong with a target spec (a YAML file's data, or program.json's copy of it), as
    'key.path: problem' strings; none when its family may build its substrate."""
    problems = _renamed_keys(data)
    if problems:
        data = {("family" if k == "pipeline" else k): v for k, v in data.items()}
    problems += schema_problems(_schema_for(data, families), data)
    return problems or families[data["family"]].value_problems(data)


def _renamed_keys(data: Any) -> list[str]:
    """The key `pipeline` became `family` (one record per substrate family, not a pipeline name)."""
    if isinstance(data, dict) and "pipeline" in data and "family" not in data:
        return [f"pipeline: this key is now called 'family' (write 'family: {data['pipeline']}')"]
    return []


def _schema_for(data: Any, families: Mapping[str, Family]) -> type[BaseModel]:
    family = data.get("family") if isinstance(data, dict) else None
    if isinstance(family, str) and family in families:
        return families[family].schema
    return create_model("UnknownFamily", __base__=UnknownFamily,
                        family=(Literal[tuple(sorted(families))], ...))  # type: ignore[valid-type]
