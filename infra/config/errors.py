"""A stack file's problems as people read them: `ConfigIssue` (the key path and the fix),
`ConfigError` (all of them, with the file's name), and pydantic's errors translated into issues
(pass 1 of loading).
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from .naming import NAMESPACE
from .schema import StackConfig

__all__ = [
    "ConfigError",
    "ConfigIssue",
]


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a stack file: where (`meridian:regions[1].cidr`) and what to do about it."""

    path: str
    problem: str


class ConfigError(Exception):
    """The stack file is invalid; nothing was declared. `str()` is the message a person reads."""

    def __init__(self, source: str, issues: list[ConfigIssue]) -> None:
        self.source = source
        self.issues = issues
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.issues)
        head = (
            f"{self.source}: invalid stack config ({count} problem{'s' if count != 1 else ''}); "
            "nothing was declared."
        )
        return "\n".join([head, *(f"  - {i.path}: {i.problem}" for i in self.issues)])


def _key_path(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return f"{NAMESPACE}:"
    path = f"{NAMESPACE}:{loc[0]}"
    for part in loc[1:]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class whose keys live at *loc* inside `StackConfig`, if it is a model."""
    annotation: Any = StackConfig
    for part in loc:
        annotation = _without_none(annotation)
        origin = typing.get_origin(annotation)
        if origin in (list, tuple):  # part is an index
            annotation = typing.get_args(annotation)[0]
        elif origin is dict:  # part is a key
            annotation = typing.get_args(annotation)[1]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next((f for n, f in annotation.model_fields.items() if part in (n, f.alias)), None)
            if field is None:
                return None
            annotation = field.annotation
        else:
            return None
    annotation = _without_none(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _without_none(annotation: Any) -> Any:
    """`X | None` -> X; anything else unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def _issue_from_error(error: Any) -> ConfigIssue:
    loc = tuple(error["loc"])
    if loc and loc[-1] == "[key]":  # pydantic's marker for a bad key of a mapping: name the key
        loc = loc[:-1]
        error = {**error, "msg": f"{loc[-1]!r} is not a valid key here: {error['msg']}", "input": None}
    path = _key_path(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        valid = sorted(f.alias or n for n, f in model.model_fields.items()) if model else []
        guess = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        hint = f" (did you mean {guess[0]!r}?)" if guess else ""
        return ConfigIssue(path, f"unknown key{hint}; valid keys here: {', '.join(valid)}")
    if kind == "missing":
        return ConfigIssue(path, "required key is missing; add it (docs/config-reference.md)")
    message = error["msg"].removeprefix("Value error, ")
    given = error.get("input")
    shown = isinstance(given, str) and given in message
    if isinstance(given, (str, int, float, bool)) and not shown:
        message += f" (got {given!r})"
    elif isinstance(given, (dict, list)) or (given is None and kind in _EXPECTED):
        message += f" (got {'a mapping' if isinstance(given, dict) else 'a list' if given else 'nothing'})"
    if kind in _EXPECTED:
        message += f"; write {_EXPECTED[kind]} here (docs/config-reference.md)"
    return ConfigIssue(path, message)


#: pydantic's type errors → what to write instead (its messages say what is wrong, not the fix).
_EXPECTED = {
    "list_type": "a list (one `- item` a line)",
    "tuple_type": "a list (one `- item` a line)",
    "set_type": "a list (one `- item` a line)",
    "dict_type": "a mapping (one `key: value` a line)",
    "model_type": "a mapping of its settings (one `key: value` a line)",
    "model_attributes_type": "a mapping of its settings (one `key: value` a line)",
    "string_type": "a string (quote it)",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}
