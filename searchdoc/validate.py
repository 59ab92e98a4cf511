"""Strict validation of the JSON files searchdoc keeps: whatever does not fit is "damaged".

A document JSON, the index state, the acronym cache and an ingest side-car are read back by
code that trusts their shape; a hand edit, a disk fault or a hostile file could otherwise turn
into an internal error far from the file (``"n": "een"`` fails in the analysis, a list where a
mapping belongs fails in ``.get``, 100,000 ``[`` overflow the parser's recursion). Every such
file is parsed with :func:`load_json` and checked here on load, so the one outcome for anything
invalid is :class:`DamagedFile` (a ValueError), which the callers already treat as damage.

The document check is derived from the dataclasses of ``searchdoc.model``, so it follows the
model as it grows: required fields are the ones without a default, and every value must have
its annotated type. Integers must lie in [0, 2**31): paragraph and footnote numbers, pages and
offsets are never negative or huge.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from functools import cache
from typing import Any

#: Largest integer any stored number may be (paragraph numbers, pages, offsets, docnums).
MAX_INT = 2**31 - 1


class DamagedFile(ValueError):
    """A JSON file that cannot be parsed or does not have the shape searchdoc writes."""


def load_json(data: bytes | str) -> Any:
    """``json.loads`` that fails with DamagedFile on anything malformed, however deep."""
    try:
        return json.loads(data)
    except RecursionError:
        raise DamagedFile("nested too deeply") from None
    except (ValueError, TypeError) as exc:
        raise DamagedFile(f"not valid JSON ({exc.__class__.__name__})") from None


def require_mapping(data: Any) -> dict:
    """``data`` if it is a JSON object; raises DamagedFile otherwise."""
    if not isinstance(data, dict):
        raise DamagedFile(f"it should hold a mapping, not a {type(data).__name__}")
    return data


def _fail(where: str, expected: str, value: Any) -> typing.NoReturn:
    shown = type(value).__name__ if not isinstance(value, (int, float)) or isinstance(value, bool) else "number"
    raise DamagedFile(f"{where or 'the file'} should be {expected}, not {shown}"
                      + (f" {value}" if shown == "number" and len(str(value)) <= 12 else ""))


def _check_int(value: Any, where: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        _fail(where, "a whole number", value)
    if not 0 <= value <= MAX_INT:
        raise DamagedFile(f"{where} is out of range")


def _checker(hint: Any):
    """A function (value, where) -> None for a type annotation of the model."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return lambda value, where: None
    if hint is str:
        def check_str(value, where):
            if not isinstance(value, str):
                _fail(where, "a string", value)
        return check_str
    if hint is int:
        return _check_int
    if hint is float:
        def check_float(value, where):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
                _fail(where, "a number", value)
        return check_float
    if hint is bool:
        def check_bool(value, where):
            if not isinstance(value, bool):
                _fail(where, "true or false", value)
        return check_bool
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        inner = _checker(options[0]) if len(options) == 1 else None
        if inner is None:
            raise TypeError(f"unsupported annotation {hint!r}")

        def check_optional(value, where):
            if value is not None:
                inner(value, where)
        return check_optional
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        inner = _checker(item)

        def check_list(value, where):
            if not isinstance(value, list):
                _fail(where, "a list", value)
            for i, element in enumerate(value):
                inner(element, f"{where}[{i}]")
        return check_list
    if origin is dict:
        key_type, item = typing.get_args(hint) or (str, Any)
        inner = _checker(item)

        def check_dict(value, where):
            if not isinstance(value, dict):
                _fail(where, "a mapping", value)
            for key, element in value.items():
                inner(element, f"{where}.{key}")
        return check_dict
    if dataclasses.is_dataclass(hint):
        return _dataclass_checker(hint)
    raise TypeError(f"unsupported annotation {hint!r}")


@cache
def _dataclass_checker(cls):
    hints = typing.get_type_hints(cls)
    specs = [(f.name, f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
             for f in dataclasses.fields(cls)]
    checkers = {name: _checker(hints[name]) for name, _ in specs}

    def check(value, where):
        if not isinstance(value, dict):
            _fail(where, "a mapping", value)
        for name, required in specs:
            if name in value:
                checkers[name](value[name], f"{where}.{name}" if where else name)
            elif required:
                raise DamagedFile(f"{where + '.' if where else ''}{name} is missing")
    return check


def check_dataclass(cls, data: Any, where: str = "") -> None:
    """Raise DamagedFile unless ``data`` is the JSON form (``asdict``) of a ``cls``."""
    _dataclass_checker(cls)(data, where)


def check_state(data: Any) -> dict:
    """The index state file: fingerprints of the schema, analysis and taxonomy, per-document
    fingerprints and the checksums of the index files."""
    if not isinstance(data, dict):
        _fail("the state", "a mapping", data)
    _check_int(data.get("schema"), "schema")
    for key in ("analysis", "taxonomy"):
        if not isinstance(data.get(key), str):
            _fail(key, "a string", data.get(key))
    docs = data.get("docs")
    if not isinstance(docs, dict) or not all(isinstance(v, str) for v in docs.values()):
        _fail("docs", "a mapping of document ids to fingerprints", docs)
    files = data.get("files")
    if not isinstance(files, dict):
        _fail("files", "a mapping", files)
    for name, entry in files.items():
        if not (isinstance(entry, list) and len(entry) == 2):
            _fail(f"files.{name}", "a [size, crc32] pair", entry)
        size, crc = entry
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            _fail(f"files.{name}", "a size", size)
        if not isinstance(crc, int) or isinstance(crc, bool) or not 0 <= crc < 2**32:
            _fail(f"files.{name}", "a crc32", crc)
    return data


def check_acronyms(data: Any) -> dict:
    """The acronym cache of an index folder (see ``searchdoc.query.refresh_definitions``)."""
    if not isinstance(data, dict):
        _fail("the acronym file", "a mapping", data)
    if not isinstance(data.get("version"), int) or not isinstance(data.get("analysis"), str):
        raise DamagedFile("the acronym file has no version")
    docs, keys = data.get("docs"), data.get("keys")
    if not isinstance(docs, dict) or not isinstance(keys, dict):
        raise DamagedFile("the acronym file has no docs or keys")
    for doc_id, entry in docs.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("fp"), str) and isinstance(entry.get("defs"), list)
                and all(isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p)
                        for p in entry["defs"])):
            raise DamagedFile(f"the acronym entry of {doc_id} is damaged")
    for phrase, key in keys.items():
        if not (isinstance(key, list) and all(isinstance(s, str) for s in key)):
            raise DamagedFile(f"the acronym key of {phrase!r} is damaged")
    for entry in docs.values():
        for pair in entry["defs"]:
            if pair[0] not in keys or pair[1] not in keys:
                raise DamagedFile("the acronym file lacks the key of a definition")
    return data
