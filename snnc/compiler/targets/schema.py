"""The schema of target files (and of what else snnc reads back): pydantic models, strict about types,
finite numbers only, every count bounded, unknown keys refused; their errors become 'key.path: problem,
got VALUE' strings (`problems`), with a did-you-mean for a misspelt key. A family's model is in its
module (bss2.py, onn.py) on top of `TargetBase`; adding a key to a target is adding a field there.

The YAML is read by `load_yaml`: a safe loader that also refuses duplicate keys (PyYAML silently keeps the
last) and anchors/aliases (a few lines of them expand to gigabytes for whoever walks the data), each with
the line and column."""

from __future__ import annotations

from typing import Annotated, Any, Union

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError
from pydantic_core import PydanticCustomError

from snnc.diagnostics import did_you_mean

MAX_TARGET_BYTES = 1 << 20  # a target file is a page of YAML
MAX_COUNT = 1 << 24  # any count of a substrate (circuits, channels, ...): bounded before anything is allocated
MAX_QUANTITY = 1e30  # any physical figure (photons, events per second): finite, and far from overflowing products


class Strict(BaseModel):
    """A mapping with exactly these keys, of exactly these types (an integer is not a string, 1.5 is not
    an integer, true is not a number), numbers finite."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


def count(low: int = 1, high: int = MAX_COUNT) -> Any:
    return Annotated[int, Field(ge=low, le=high)]


def number(low: float | None = None, high: float | None = MAX_QUANTITY, *, positive: bool = False) -> Any:
    """A finite number in [low, high] ((0, high] with `positive`); an integer is a number."""
    return Annotated[float, Field(gt=0 if positive else None, ge=None if positive else low, le=high)]


def _ordered_pair(bounds: list[float]) -> list[float]:
    if bounds[0] > bounds[1]:
        raise PydanticCustomError("ordered", "expected [low, high] with low <= high")
    return bounds


def _strictly_ordered(bounds: list[float]) -> list[float]:
    if not bounds[0] < bounds[1]:
        raise PydanticCustomError("ordered", "must be [low, high] with low < high")
    return bounds


def _names(value: Any) -> Any:
    if value == "all" or isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise PydanticCustomError("names", "expected 'all' or a list of strings")


Range = Annotated[list[number(-MAX_QUANTITY)], Field(min_length=2, max_length=2), AfterValidator(_ordered_pair)]
Interval = Annotated[list[number(-MAX_QUANTITY)], Field(min_length=2, max_length=2), AfterValidator(_strictly_ordered)]
_TAGS = {"number", "integer", "string", "boolean", "mapping", "list"}  # union branches (`by_type`), not keys


def by_type(**branches: Any) -> Any:
    """A union whose branch is chosen by the value's type (number, integer, string, boolean, mapping,
    list), so that an error names what is wrong with the value, not why every branch failed."""
    def kind(value: Any) -> str:
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "integer" if "integer" in branches else "number"
        names = {float: "number", str: "string", dict: "mapping", list: "list"}
        found = next((name for cls, name in names.items() if isinstance(value, cls)), "number")
        return found if found in branches else next(iter(branches))
    return Annotated[Union[tuple(Annotated[t, Tag(name)] for name, t in branches.items())], Discriminator(kind)]
Names = Annotated[Any, AfterValidator(_names)]


class Supports(Strict):
    neuron_models: Names
    encoders: Names
    readouts: Names
    max_delay: number(0.0) = None  # s (model time); none: any delay


class TargetBase(Strict):
    """The keys every target has; a family's model adds `resources` and `noise` (and more)."""

    name: str
    description: str
    family: str
    time_scale: number(positive=True, high=1e6)  # substrate seconds per model second
    supports: Supports


class AnyFamily(Strict):
    """Only `family`, for a file whose family is unknown: the other keys are checked once it is known."""

    model_config = ConfigDict(extra="allow", strict=True)
    family: str


_PHRASES = {"float_type": "expected a number", "float_parsing": "expected a number", "int_type": "expected an integer",
            "int_parsing": "expected an integer", "int_from_float": "expected an integer", "string_type":
            "expected a string", "bool_type": "expected true or false", "list_type": "expected a list",
            "tuple_type": "expected a list", "dict_type": "expected a mapping", "model_type": "expected a mapping",
            "model_attributes_type": "expected a mapping", "finite_number": "must be finite"}
_BOUNDS = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", ">="), "less_than": ("lt", "<"),
           "less_than_equal": ("le", "<=")}


def problems(model: type[BaseModel], data: Any, prefix: str = "") -> list[str]:
    """Every way `data` fails `model`, as 'key.path: problem' strings ('(top level)' for the whole)."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return [f"{path}: {phrase}" for path, phrase in error_phrases(exc, model, prefix)]
    return []


def error_phrases(exc: ValidationError, model: type[BaseModel] | None = None, prefix: str = ""
                  ) -> list[tuple[str, str]]:
    """pydantic's errors as (key path, phrase) pairs in snnc's words."""
    found = []
    for item in exc.errors(include_url=False):
        loc = [part for part in item["loc"] if part not in _TAGS]
        path = prefix
        for part in loc:
            path = f"{path}[{part}]" if isinstance(part, int) else f"{path}.{part}" if path else str(part)
        found.append((path or "(top level)", _phrase(item, model, loc)))
    return list(dict.fromkeys(found))


def _phrase(item: dict, model: type[BaseModel] | None, loc: list) -> str:
    kind, ctx = item["type"], item.get("ctx", {})
    if kind == "missing":
        return "missing"
    if kind == "extra_forbidden":
        return "unknown key" + did_you_mean(str(loc[-1]), _keys_at(model, loc[:-1]))
    if kind in _BOUNDS:
        key, sign = _BOUNDS[kind]
        phrase = f"must be {sign} {ctx[key]:,}" if isinstance(ctx[key], int) else f"must be {sign} {ctx[key]:g}"
    elif kind == "literal_error":
        phrase = f"expected one of {ctx['expected'].replace(' or ', ', ')}"
    elif kind in ("too_short", "too_long"):
        phrase = f"expected {ctx.get('min_length', ctx.get('max_length'))} items"
    else:
        phrase = _PHRASES.get(kind, item["msg"][:1].lower() + item["msg"][1:])
    return f"{phrase}, got {_show(item['input'])}"


def _keys_at(model: type[BaseModel] | None, loc: list) -> list[str]:
    """The keys the model allows at `loc` (for a did-you-mean)."""
    for part in loc:
        field = model.model_fields.get(part) if model is not None and hasattr(model, "model_fields") else None
        model = field.annotation if field is not None else None
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    text = repr(value)
    if isinstance(value, (list, tuple)) and (len(text) > 40 or any(isinstance(v, (list, dict)) for v in value)):
        return "a list"
    return text if len(text) <= 40 else text[:37] + "..."


class _TargetLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses duplicate keys and aliases."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "anchors and aliases (*name) are not supported in "
                                              "target files", self.peek_event().start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) or key is None:
                if key in seen:
                    first = seen[key].start_mark
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key '{key}' (first at line {first.line + 1}, column "
                        f"{first.column + 1})", key_node.start_mark)
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


_TargetLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _TargetLoader.construct_mapping)


def load_yaml(text: str) -> Any:
    """The data of a target file's text; yaml.YAMLError (with its mark) on bad YAML, a duplicate key or an
    alias; RecursionError when nested too deeply for the parser."""
    return yaml.load(text, Loader=_TargetLoader)  # noqa: S506 - a SafeLoader subclass
