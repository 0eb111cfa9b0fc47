"""A compiled program read back from its directory is checked, never trusted: program.json's document
(its header, target record, source, diagnostics and the IR's outline) against pydantic models, every
number finite and the nesting shallow; the IR that `from_dict` builds from it by snnc.compiler.ir.validate
(records against their type hints and declared ranges, weights finite, of float32 and their shape); the
report entries passes add against their models here; then the target family's checks of its hardware
arrays (families.program_problems). Problems are (key path, phrase) pairs; load_program turns them into
errors naming the file, and for an array its key in weights.npz."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
)

from snnc.compiler.families import FAMILIES
from snnc.compiler.ir.graph import SCHEMA_VERSION as IR_SCHEMA_VERSION
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.validate import MAX_INT, Problem, array_key, edge_path, join, node_path
from snnc.compiler.targets.schema import by_type, error_phrases
from snnc.diagnostics import Diagnostic, error

MAX_PROGRAM_BYTES = 256 << 20  # program.json: the IR's outline; the arrays are in weights.npz
MAX_DEPTH = 32  # nesting of program.json (snnc writes at most 9 levels)
MAX_SHOWN = 20  # problems listed in one error; a count says how many more there are

STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
Count = Annotated[int, Field(ge=0, le=MAX_INT)]


class Record(BaseModel):
    model_config = STRICT


class NirImportRecord(Record):
    """How a .nir source was read (snnc.interop.options.ImportOptions)."""

    dt: float | None
    steps: Annotated[int, Field(ge=1, le=MAX_INT)] | None
    readout: str | None
    reset: str


class SourceRecord(Record):
    path: str
    sha256: str
    nir: NirImportRecord | None = None  # a program compiled from a .nir file


class TargetRecord(Record):
    name: str
    family: Literal[tuple(FAMILIES)]  # type: ignore[valid-type]
    path: str
    sha256: str
    chips: Annotated[int, Field(ge=1, le=MAX_INT)] | None
    spec: dict  # checked as a target file is (families.target_problems)


class DiagnosticRecord(Record):
    severity: Literal["error", "warning", "note"]
    code: str
    message: str
    file: str | None
    line: Count | None
    column: Count | None
    notes: list[str]


class NodeOutline(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    name: str


class EdgeOutline(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    source: str
    target: str
    key: str


class IROutline(Record):
    schema_version: Literal[IR_SCHEMA_VERSION]  # type: ignore[valid-type]
    header: dict
    attrs: dict
    nodes: list[NodeOutline]
    edges: list[EdgeOutline]


class ProgramDocument(Record):
    format: Literal["snnc-program"]
    schema_version: Literal[2]
    snnc_version: str
    target: TargetRecord
    source: SourceRecord
    seed: Count
    diagnostics: list[DiagnosticRecord]
    ir: IROutline


# What passes put in `report` attributes (shown as table cells) and in the graph's `resources` and
# `training` entries (report.json; `snnc run` reads the chip seed it trained on).
SCALARS = dict(integer=StrictInt, number=Annotated[float, Field(allow_inf_nan=False)], string=StrictStr,
               boolean=StrictBool)
Cell = by_type(**SCALARS, list=list[by_type(**SCALARS)])
REPORT = TypeAdapter(dict[str, Cell | None], config=ConfigDict(strict=True))
Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]  # (an integer is a number)


class ResourceUse(Record):
    used: Amount
    available: Amount | None


RESOURCES = TypeAdapter(dict[str, ResourceUse])


class TrainingRecord(BaseModel):
    """Graph attr `training` (base.Emulator.export, inference.deploy); keys it may gain are checked generically."""

    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)
    method: str = ""  # (the defaults only make the keys optional: a key present must hold its type)
    epochs: Count = 0
    chip_seed: Count = 0
    seed: Count = 0
    data: str = ""
    test_samples: Annotated[int, Field(ge=1, le=MAX_INT)] = 1  # what `snnc run` evaluates by default
    test_accuracy: Annotated[StrictFloat, Field(ge=0, le=1)] | None = None  # None: trained for no epoch
    deployed_from: str = ""


def read_document(path: Path) -> Any:
    """program.json's data; OSError / ValueError saying what is wrong with the file."""
    if path.is_dir():
        raise ValueError("it is a directory, not a file")
    size = path.stat().st_size
    if size > MAX_PROGRAM_BYTES:
        raise ValueError(f"{size:,} bytes; snnc writes the IR's outline there (the arrays are in weights.npz) "
                         f"and reads at most {MAX_PROGRAM_BYTES:,}")
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None


def document_problems(document: Any) -> list[Problem]:
    """The document's outline against ProgramDocument; every number finite, nesting at most MAX_DEPTH."""
    problems = _walk(document)
    if problems:
        return problems
    try:
        ProgramDocument.model_validate(document)
    except ValidationError as exc:
        return pydantic_problems(exc)
    return []


def _walk(document: Any) -> list[Problem]:
    """Non-finite numbers and too deep nesting, without recursion (a hostile file may nest 10^5 deep)."""
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    problems = []
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return [(path or "(top level)", f"nested deeper than {MAX_DEPTH} levels")]
        if isinstance(value, float) and not math.isfinite(value):
            problems.append((path, f"must be finite, got {value}"))
        elif isinstance(value, dict):
            stack += [(v, join(path, str(k)) if path else str(k), depth + 1) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(v, _item_path(path, i, v), depth + 1) for i, v in enumerate(value)]
    return problems[::-1]


def _item_path(path: str, index: int, item: Any) -> str:
    """ir.nodes and ir.edges items by name (as the IR's checks name them), other list items by index."""
    name = item.get({"ir.nodes": "name", "ir.edges": "key"}.get(path, "")) if isinstance(item, dict) else None
    if isinstance(name, str):
        return node_path(name) if path == "ir.nodes" else edge_path(name)
    return join(path, index)


def pydantic_problems(exc: ValidationError, prefix: str = "") -> list[Problem]:
    """pydantic's errors as (key path, phrase) pairs in snnc's words (targets/schema.py)."""
    return error_phrases(exc, None, prefix)


def attribute_problems(ir: NetworkIR) -> list[Problem]:
    """The report entries, resources and training record against their models."""
    checks = [(RESOURCES, ir.graph.graph.get("resources"), "ir.attrs.resources")]
    checks += [(REPORT, attrs.get("report"), join(node_path(name), "report"))
               for name, attrs in ir.graph.nodes(data=True)]
    checks += [(REPORT, attrs.get("report"), join(edge_path(key), "report")) for _, _, key, attrs in ir.edges()]
    problems = []
    for adapter, value, path in checks:
        if value is not None:
            try:
                adapter.validate_python(value)
            except ValidationError as exc:
                problems += pydantic_problems(exc, path)
    training = ir.graph.graph.get("training")
    if training is not None:
        try:
            TrainingRecord.model_validate(training)
        except ValidationError as exc:
            problems += pydantic_problems(exc, "ir.attrs.training")
    return problems


def corrupt(directory: Path, problems: list[Problem], arrays: dict | None = None) -> list[Diagnostic]:
    """E302 per problem, naming program.json and the key path, or weights.npz and the array's key."""
    diagnostics = []
    for path, phrase in problems[:MAX_SHOWN]:
        key = array_key(path)
        if arrays is not None and key in arrays:
            diagnostics.append(error("E302", f"'{directory / 'weights.npz'}' is corrupt: array '{key}' ({path}): "
                                     f"{phrase}"))
        else:
            diagnostics.append(error("E302", f"'{directory / 'program.json'}' is corrupt: {path}: {phrase}"))
    if len(problems) > MAX_SHOWN:
        diagnostics.append(error("E302", f"... and {len(problems) - MAX_SHOWN} more problems in '{directory}'"))
    return diagnostics
