"""A small strict reader for TOML tables: every key known, every value typed and bounded.

An error names the file, the dotted key path and what was expected, e.g.
``scenarios/x.toml: engine.batch_size: expected an integer from 1 to 10, got 12``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

REQUIRED = object()


class ScenarioError(ValueError):
    """A scenario file that cannot be run: names the file, the key path and what was expected."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = problem
        where = f"{source}: {path}: " if path else f"{source}: "
        super().__init__(where + problem)


@dataclass(frozen=True)
class Field:
    kind: str  # int, float, str, bool, datetime, list[int], list[str], table[float]
    default: Any = REQUIRED
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # low bound excluded
    choices: tuple[str, ...] | None = None
    pattern: str | None = None
    pattern_text: str | None = None
    non_empty: bool = False
    doc: str = ""

    def expected(self) -> str:
        noun = {
            "int": "an integer",
            "float": "a number",
            "str": "a string",
            "bool": "true or false",
            "datetime": "an offset date-time such as 2026-01-05T09:00:00Z",
            "list[int]": "a list of integers",
            "list[str]": "a list of strings",
            "table[float]": "a table of numbers",
        }[self.kind]
        if self.kind == "table[float]":
            bound = f" >= {_num(self.low)}" if self.low is not None else ""
            keys = f" keyed by {', '.join(repr(c) for c in self.choices)}" if self.choices is not None else ""
            return f"{noun}{bound}{keys}"
        if self.choices is not None:
            listed = ", ".join(repr(c) for c in self.choices)
            return f"{noun}, one of {listed}" if not self.kind.startswith("list") else f"{noun}, each one of {listed}"
        if self.pattern_text:
            return f"{noun} {self.pattern_text}"
        if self.low is not None and self.high is not None:
            return f"{noun} from {_num(self.low)} to {_num(self.high)}" if not self.low_open else f"{noun} > {_num(self.low)} and <= {_num(self.high)}"
        if self.low is not None:
            return f"{noun} {'>' if self.low_open else '>='} {_num(self.low)}"
        if self.high is not None:
            return f"{noun} <= {_num(self.high)}"
        if self.non_empty:
            return f"a non-empty {noun.removeprefix('a ').removeprefix('an ')}"
        return noun


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _in_bounds(field: Field, value: float) -> bool:
    if field.low is not None and (value <= field.low if field.low_open else value < field.low):
        return False
    if field.high is not None and value > field.high:
        return False
    return True


def _scalar(field: Field, kind: str, value: Any) -> tuple[bool, Any]:
    if kind == "int":
        return (_is_int(value) and _in_bounds(field, value)), value
    if kind == "float":
        return (_is_number(value) and _in_bounds(field, value)), float(value) if _is_number(value) else value
    if kind == "bool":
        return isinstance(value, bool), value
    if kind == "str":
        if not isinstance(value, str):
            return False, value
        if field.choices is not None and value not in field.choices:
            return False, value
        if field.pattern is not None and not re.fullmatch(field.pattern, value):
            return False, value
        if field.non_empty and not value.strip():
            return False, value
        return True, value
    if kind == "datetime":
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return False, value
        return isinstance(value, datetime) and value.tzinfo is not None, value
    raise AssertionError(kind)


def convert(field: Field, value: Any) -> tuple[bool, Any]:
    if field.kind.startswith("list["):
        inner = field.kind[5:-1]
        if not isinstance(value, list) or (field.non_empty and not value):
            return False, value
        items = []
        for item in value:
            ok, item = _scalar(field, inner, item)
            if not ok:
                return False, value
            items.append(item)
        return True, tuple(items)
    if field.kind == "table[float]":
        if not isinstance(value, dict):
            return False, value
        items = {}
        for key, item in value.items():
            if field.choices is not None and key not in field.choices:
                return False, value
            if not _is_number(item) or not _in_bounds(field, item):
                return False, value
            items[key] = float(item)
        if field.non_empty and not items:
            return False, value
        return True, items
    return _scalar(field, field.kind, value)


Spec = Mapping[str, "Field | Spec"]


def read_table(source: str, path: str, table: Any, spec: Spec, *, extra: Callable[[str], bool] | None = None) -> dict[str, Any]:
    """Validate ``table`` against ``spec``; nested specs are sub-tables. Unknown keys are errors, unless ``extra``
    accepts them (they are then returned unchecked for the caller to validate)."""
    if not isinstance(table, dict):
        raise ScenarioError(source, path, f"expected a table, got {table!r}")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in spec and not (extra is not None and extra(key)):
            known = ", ".join(sorted(spec))
            raise ScenarioError(source, _join(path, key), f"unknown key; expected one of: {known}")
    for key, entry in spec.items():
        key_path = _join(path, key)
        if isinstance(entry, Field):
            if key not in table:
                if entry.default is REQUIRED:
                    raise ScenarioError(source, key_path, f"missing; expected {entry.expected()}")
                values[key] = entry.default
                continue
            ok, converted = convert(entry, table[key])
            if not ok:
                raise ScenarioError(source, key_path, f"expected {entry.expected()}, got {table[key]!r}")
            values[key] = converted
        else:
            values[key] = read_table(source, key_path, table.get(key, {}), entry)
    for key in table:
        if key not in spec:
            values[key] = table[key]
    return values


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
