"""Reading definition YAML and turning every mistake into `file: path: reason`.

People edit these files by hand, so the loader is stricter than PyYAML: a key written twice
in one mapping is an error (PyYAML silently keeps the last one, which would hide a second
condition), and pydantic's messages are rewritten into one sentence that says what is
expected at a path written the way the file reads (`where.all[2].event.count`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Hashable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ValidationError
from pydantic_core import ErrorDetails

from segment_pipeline.errors import DefinitionError

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"

#: libyaml when available (about 7x faster), else the pure-Python safe loader.
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):  # type: ignore[misc]  # the loader class is picked at import
    """Safe YAML loading that refuses a key repeated inside one mapping.

    Dates stay text (no implicit timestamps): `2026-02-30` then gets our message instead of
    a crash inside PyYAML, and a date with a time is refused rather than silently truncated.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


def read_yaml(file: Path) -> object:
    """Parse one YAML file; a syntax error names the file and the line to look at."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DefinitionError(file, "", f"cannot be read: {error}") from error
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = error.problem or error.context or "syntax error"
        raise DefinitionError(file, where, f"not valid YAML: {problem}") from error
    except yaml.YAMLError as error:
        raise DefinitionError(file, "", f"not valid YAML: {error}") from error


def join_path(path: str, key: str | int) -> str:
    """`where` + `all` -> `where.all`; `where.all` + 2 -> `where.all[2]`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ` (did you mean x?)` hint for a near miss, or an empty string."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def show(value: object) -> str:
    """A value as a person wrote it in YAML, for the `got ...` part of a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(item) for item in value) + "]"
    return str(value)


def kind_of(value: object) -> str:
    """What sort of YAML value this is, in words: `a list`, `text 'x'`, `the number 3`."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text {value!r}"
    if isinstance(value, bool):
        return f"{show(value)} (a boolean)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if value is None:
        return "nothing"
    return show(value)


def to_date(value: object) -> date:
    """YAML turns `2026-06-01` into a date; accept that or ISO text, refuse the rest.

    Raises:
        ValueError: `must be a date like 2026-06-01, got ...`.
    """
    if isinstance(value, datetime):
        raise ValueError(f"must be a date like 2026-06-01 without a time, got {show(value)}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"must be a date like 2026-06-01, got {show(value)}")


#: A calendar date as written in YAML (no timestamps, no day numbers).
YamlDate = Annotated[date, BeforeValidator(to_date)]


def _reason(error: ErrorDetails, fields: Sequence[str]) -> str:
    """One sentence for one pydantic error, in the words a definition author uses."""
    kind = error["type"]
    got = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        allowed = ", ".join(fields)
        return f"unknown key {key!r}{did_you_mean(key, fields)}; expected one of: {allowed}"
    if kind in {"literal_error", "enum"}:
        expected = str(ctx.get("expected", "one of the allowed values"))
        close = (
            did_you_mean(got, re.findall(r"'([^']*)'", expected)) if isinstance(got, str) else ""
        )
        return f"must be {expected}, got {show(got)}{close}"
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == NAME_PATTERN:
            return f"must be a lower-case name like my_segment ([a-z][a-z0-9_]*), got {show(got)}"
        return f"must match {ctx.get('pattern')}, got {show(got)}"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"must be a whole number, got {kind_of(got)}"
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        bound = {
            "greater_than_equal": f">= {ctx.get('ge')}",
            "greater_than": f"> {ctx.get('gt')}",
            "less_than_equal": f"<= {ctx.get('le')}",
            "less_than": f"< {ctx.get('lt')}",
        }[kind]
        return f"must be a whole number {bound}, got {show(got)}"
    if kind in {"bool_type", "bool_parsing"}:
        return f"must be true or false, got {kind_of(got)}"
    if kind in {"string_type"}:
        return f"must be text, got {kind_of(got)}"
    if kind in {"string_too_short", "too_short"}:
        return "must not be empty"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return f"must be a mapping, got {kind_of(got)}"
    if kind in {"list_type", "tuple_type"}:
        return f"must be a list, got {kind_of(got)}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return f"{error['msg']}, got {show(got)}"


def validation_errors(
    file: Path, error: ValidationError, model: type[BaseModel], prefix: str = ""
) -> list[DefinitionError]:
    """Every pydantic error of one model, as `DefinitionError`s located inside `file`."""
    found: list[DefinitionError] = []
    for details in error.errors():
        location = list(details["loc"])
        if details["type"] == "extra_forbidden":
            location = location[:-1]
        fields = _fields_at(model, location)
        path = prefix
        for part in location:
            path = join_path(path, part)
        found.append(DefinitionError(file, path, _reason(details, fields)))
    return found


def _fields_at(model: type[BaseModel], location: Sequence[str | int]) -> list[str]:
    """The keys allowed at `location` inside `model`, for an unknown-key message."""
    current: Any = model
    for part in location:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = _model_in(field.annotation)
    return list(getattr(current, "model_fields", {}))


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside `Model`, `Model | None`, `tuple[Model, ...]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None
