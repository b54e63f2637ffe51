"""Typed loading with msgspec, and every problem of a bad file named by its full path.

msgspec converts a good file in microseconds and imports in milliseconds (pydantic took ~40% of a build),
but it stops at the first problem and writes a key of a mapping as `[...]` (`services[...].port`). A build
that fails is the rare path, so only then `problems` walks the data against the types itself: every unknown
or missing field, every bad value, each with its path (`services.backend.port`) and what is allowed.
"""

from __future__ import annotations

import difflib
import re
import types
import typing

import msgspec

TYPE_WORDS = {
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "bool": "a boolean (true or false)",
    "object": "a mapping",
    "array": "a list",
    "null": "null (nothing)",
}
MAX_PROBLEMS = 10
PATTERN_WORDS: dict[str, str] = {}  # a spec pattern -> what it allows, in words (errors never show a regex)


def worded(pattern: str, words: str) -> str:
    """Register what `pattern` allows, in words, for its error messages; returns the pattern."""
    PATTERN_WORDS[pattern] = words
    return pattern


class FieldError(ValueError):
    """Raised by a spec check (`__post_init__`) to blame one field of the part it checks (`cidr`, `tags`)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class SpecInvalid(ValueError):
    """Every problem found, as (path, message) pairs; the path is a tuple of keys and list indexes."""

    def __init__(self, problems: list[tuple[tuple, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{dotted(path)}: {message}" if path else message for path, message in problems))


def dotted(path: tuple) -> str:
    """`services.api.port`; a key that is not a plain word is quoted, escaped and shortened
    (`services.'Bad.Name'`, `'a\\n\\nb'`): a path is one line of a one-paragraph error."""
    return ".".join(
        part
        if isinstance(part, str) and _WORD.fullmatch(part) and len(part) <= 60
        else str(part)
        if isinstance(part, int)
        else shown(part)
        for part in path
    )


_WORD = re.compile(r"[\w-]+")


def convert(data: object, kind: type):
    """`data` as an instance of `kind` (strict: YAML already typed its scalars), or SpecInvalid naming every problem."""
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError:
        found = problems(data, kind)  # never empty: a part none of whose parts is to blame is blamed itself
        more = [((), f"... and {len(found) - MAX_PROBLEMS} more")] if len(found) > MAX_PROBLEMS else []
        raise SpecInvalid(found[:MAX_PROBLEMS] + more) from None


def problems(value: object, kind: object, path: tuple = ()) -> list[tuple[tuple, str]]:
    """What is wrong with `value` as a `kind`, deepest first: a part is blamed only when none of its own parts is."""
    try:
        msgspec.convert(value, kind)
        return []
    except msgspec.ValidationError as error:
        failure = error
    base = _unwrap(kind)
    inner = _inside(value, base, path)
    if inner:
        return inner
    cause = failure.__cause__
    if isinstance(cause, FieldError):
        return [(path + tuple(cause.field.split(".")), cause.message)]
    if isinstance(cause, ValueError):
        return [(path, str(cause))]
    return [(path, _explain(str(failure).rpartition(" - at `")[0] or str(failure), value, base))]


def _inside(value: object, kind: object, path: tuple) -> list[tuple[tuple, str]]:
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct) and isinstance(value, dict):
        fields = {field.encode_name: field for field in msgspec.structs.fields(kind)}
        # a spec part may say why a field it lacks belongs elsewhere (JobSpec: `exec` is a service's option)
        misplaced = getattr(kind, "misplaced_fields", {})
        found = [
            (path + (key,), misplaced.get(key) or _unknown(key, list(fields))) for key in value if key not in fields
        ]
        found += [
            (path + (name,), "required field missing")
            for name, field in fields.items()
            if field.required and name not in value
        ]
        for name, field in fields.items():
            if name in value:
                found += problems(value[name], field.type, path + (name,))
        return found
    origin, arguments = typing.get_origin(kind), typing.get_args(kind)
    if origin is dict and isinstance(value, dict):
        key_kind, item_kind = arguments
        found = []
        for key, item in value.items():
            found += [(path + (key,), f"not a valid name: {message}") for _, message in problems(key, key_kind, ())]
            found += problems(item, item_kind, path + (key,))
        return found
    if origin is list and isinstance(value, list):
        return [
            problem for index, item in enumerate(value) for problem in problems(item, arguments[0], path + (index,))
        ]
    if origin in (typing.Union, types.UnionType):
        shaped = [member for member in arguments if _same_shape(value, member)]
        if len(shaped) == 1:
            return problems(value, shaped[0], path)
    return []


def _unknown(key: object, allowed: list[str]) -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else "check the spelling"
    return f"unknown field ({hint}); allowed: {', '.join(allowed)}"


def _unwrap(kind: object) -> object:
    """`kind` without its `Annotated[...]` layers (constraints and descriptions)."""
    while typing.get_origin(kind) is typing.Annotated:
        kind = typing.get_args(kind)[0]
    return kind


def _same_shape(value: object, kind: object) -> bool:
    """Whether `value` has the JSON shape of `kind` (a mapping for a struct or dict, a list for a list, ...)."""
    base = _unwrap(kind)
    origin = typing.get_origin(base) or base
    if isinstance(origin, type) and issubclass(origin, (msgspec.Struct, dict)):
        return isinstance(value, dict)
    if origin is list:
        return isinstance(value, list)
    if origin is typing.Literal:
        return any(type(value) is type(choice) for choice in typing.get_args(base))
    if origin is type(None):
        return value is None
    return isinstance(origin, type) and type(value) is origin


def _explain(message: str, value: object, kind: object) -> str:
    """msgspec's terse message in plain words, with the value that was given."""
    if message.startswith("Invalid enum value") and typing.get_origin(kind) is typing.Literal:
        choices = [repr(choice) for choice in typing.get_args(kind)]
        return f"allowed values are {', '.join(choices[:-1])} or {choices[-1]} (got {shown(value)})"
    matching = re.fullmatch(r"Expected `str` matching regex ('.*')", message, flags=re.S)
    if matching:  # msgspec quotes the pattern as Python's repr does
        words = next((words for pattern, words in PATTERN_WORDS.items() if repr(pattern) == matching[1]), None)
        if words:
            return f"{words}{_given(value)}"
    length = re.fullmatch(r"Expected `str` of length (<=|>=) (\d+)", message)
    if length and isinstance(value, str):
        bound = "at most" if length[1] == "<=" else "at least"
        return f"{bound} {length[2]} characters, got {len(value)}: {shown(value)}"
    expected = re.fullmatch(r"Expected `([^`]+)`, got `([^`]+)`", message)
    if expected:
        words = [word for word in expected[1].split(" | ") if word != "null"] or ["null"]  # optional: leaving it out
        wanted = " or ".join(TYPE_WORDS.get(word, word) for word in words)
        got = TYPE_WORDS.get(expected[2], expected[2]).partition(" (")[0]
        return f"expected {wanted}, got {got}" + ("" if isinstance(value, (dict, list)) else f": {shown(value)}")
    text = re.sub(r"`(\w+)`", lambda match: TYPE_WORDS.get(match[1], match[1]), message)
    return text[:1].lower() + text[1:] + _given(value)


def _given(value: object) -> str:
    return "" if isinstance(value, (dict, list)) else f" (got {shown(value)})"


def shown(value: object) -> str:
    """`value` as Python writes it (quoted, escaped), cut to 60 characters: safe inside a one-line message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
