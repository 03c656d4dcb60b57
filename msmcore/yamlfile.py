"""Reading a YAML configuration safely: line numbers kept, size and expansion bounded.

:func:`read_yaml` is ``yaml.safe_load`` (no Python objects) with three
additions that every configuration error message relies on or that keep a
hostile file from exhausting the machine:

* mappings and sequences remember the line of each key and item
  (:class:`LineMap`, :class:`LineList`), and a key written twice is an error
  (keys brought in by a ``<<:`` merge may be overridden, as YAML intends);
* the file may hold at most :data:`MAX_BYTES` bytes, must be UTF-8, and
  nests at most :data:`MAX_DEPTH` levels;
* the document, with every alias expanded where it is used, may hold at most
  :data:`MAX_NODES` nodes, counted on the composed node graph *before* any
  object is built — so a "billion laughs" file of a few hundred bytes is
  refused in milliseconds instead of growing to gigabytes; recursive aliases
  are refused too.

Every failure is a :class:`~msmcore.errors.ConfigurationError` that names
``file:line`` and says what to do.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from msmcore.errors import ConfigurationError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "MAX_VALUE_CHARS", "LineList", "LineMap", "parse_value", "plain",
           "read_yaml"]

#: Largest configuration file read (bytes).
MAX_BYTES = 1 << 20
#: Most nodes the document may hold once every alias is expanded.
MAX_NODES = 200_000
#: Deepest nesting of mappings and sequences.
MAX_DEPTH = 64


class LineMap(dict):
    """A mapping that remembers its own line and the line of each key (1-based)."""

    line: int = 0
    lines: dict[Any, int]


class LineList(list):
    """A sequence that remembers its own line and the line of each item (1-based)."""

    line: int = 0
    lines: list[int]


class _Problem(Exception):
    """A problem found while building objects, at a line of the file."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose containers record line numbers."""


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _build(loader: _Loader, node: Node) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, OverflowError, TypeError) as exc:  # e.g. an int of 10,000 digits, a bad date
        raise _Problem(_line(node), f"invalid value {_excerpt(node)}: {exc}") from None


def _excerpt(node: Node) -> str:
    if isinstance(node, ScalarNode):
        text = str(node.value)
        return repr(text if len(text) <= 40 else text[:36] + " ...")
    return f"({node.id})"


def _construct_map(loader: _Loader, node: MappingNode) -> LineMap:
    own: dict[Any, int] = {}
    for key_node, _ in node.value:  # duplicates among the keys written here (merged ones may be overridden)
        if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            key = _build(loader, key_node)
            if key in own:
                raise _Problem(_line(key_node), f"key '{key}' appears twice (first on line {own[key]}); "
                                                "keep one of them")
            own[key] = _line(key_node)
    loader.flatten_mapping(node)
    result = LineMap()
    result.line = _line(node)
    result.lines = {}
    for key_node, value_node in node.value:
        key = _build(loader, key_node)
        try:
            hash(key)
        except TypeError:
            raise _Problem(_line(key_node), f"a mapping key must be a plain value, got a {type(key).__name__} "
                                            f"{_excerpt(key_node)}") from None
        result[key] = _build(loader, value_node)
        result.lines[key] = _line(key_node)
    return result


def _construct_seq(loader: _Loader, node: SequenceNode) -> LineList:
    result = LineList(_build(loader, n) for n in node.value)
    result.line = _line(node)
    result.lines = [_line(n) for n in node.value]
    return result


# YAML 1.1 (PyYAML) reads 4.05e4 and 1e-6 as strings; read them as floats, as YAML 1.2 does.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def _expanded_size(root: Node, where: str) -> int:
    """Nodes in the document with every alias expanded; refuses cycles and deep nesting.

    Shared nodes are counted once per use but measured once (memoised), so
    this is linear in the size of the composed graph however large the
    expansion would be.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node, depth: int) -> int:
        ident = id(node)
        if ident in sizes:
            return sizes[ident]
        if ident in active:
            raise ConfigurationError(f"{where}:{_line(node)}: a YAML alias refers to the node that contains "
                                     "it (a recursive structure); write the values out instead")
        if depth > MAX_DEPTH:
            raise ConfigurationError(f"{where}:{_line(node)}: the document nests more than {MAX_DEPTH} levels "
                                     "deep; a configuration needs a few")
        active.add(ident)
        total = 1
        if isinstance(node, SequenceNode):
            for child in node.value:
                total += size(child, depth + 1)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                total += size(key, depth + 1) + size(value, depth + 1)
        active.discard(ident)
        sizes[ident] = total
        return total

    return size(root, 0)


def read_yaml(path: str | Path) -> Any:
    """Read a YAML file with line numbers, bounded in size, nesting and alias expansion.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    Any
        The document: :class:`LineMap` / :class:`LineList` containers, plain
        scalars (``None`` for an empty file).

    Raises
    ------
    ConfigurationError
        The file cannot be read, is too large, is not UTF-8, is not valid
        YAML, or expands beyond the limits — naming ``file:line``.
    """
    path = Path(path)
    where = str(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(f"cannot read configuration {where}: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise ConfigurationError(f"{where}: the file is larger than {MAX_BYTES // 1024} KiB; a configuration "
                                 "is a few KiB — keep large data (initial fields, meshes) in data files")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigurationError(f"{where}:{line}: the file is not UTF-8 text (byte {raw[exc.start]:#04x} at "
                                 f"offset {exc.start}); save it as UTF-8") from None
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        expanded = _expanded_size(node, where)
        if expanded > MAX_NODES:
            raise ConfigurationError(
                f"{where}: the document expands to {expanded:,} values once its aliases (*name) are "
                f"replaced by what they refer to, more than the {MAX_NODES:,} allowed; "
                "use fewer or smaller aliases"
            )
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = str(mark.line + 1) if mark else "?"
        raise ConfigurationError(f"{where}:{at}: invalid YAML: {exc.problem or exc}") from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ConfigurationError(f"{where}:{line}: invalid YAML: character {exc.character:#06x} is not "
                                 "allowed in YAML text (a control character); remove it") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{where}: invalid YAML: {exc}") from None
    except _Problem as exc:
        raise ConfigurationError(f"{where}:{exc.line}: {exc}") from None
    except RecursionError:
        raise ConfigurationError(f"{where}: the document nests too deeply; a configuration needs a few "
                                 "levels") from None
    finally:
        if loader is not None:
            loader.dispose()


def plain(value: Any) -> Any:
    """Line-tracking containers back to plain dicts and lists."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


#: Longest text :func:`parse_value` reads.
MAX_VALUE_CHARS = 10_000


def parse_value(text: str, what: str = "value") -> Any:
    """One value written in YAML (``0.5``, ``[10, 10]``, ``{25: 2.0}``, ``explicit``), as plain Python.

    Used for ``--set key=value`` on the command line; the same rules and
    limits as :func:`read_yaml` (``4.05e4`` is a number).

    Raises
    ------
    ConfigurationError
        Invalid YAML or too long, naming ``what``.
    """
    if len(text) > MAX_VALUE_CHARS:
        raise ConfigurationError(f"{what}: the value is longer than {MAX_VALUE_CHARS} characters")
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, what) > MAX_NODES:
            raise ConfigurationError(f"{what}: the value expands to more than {MAX_NODES:,} values")
        return plain(loader.construct_document(node))
    except (yaml.YAMLError, _Problem) as exc:
        raise ConfigurationError(f"{what}: {text!r} is not a valid YAML value: "
                                 f"{getattr(exc, 'problem', None) or exc}") from None
    except RecursionError:
        raise ConfigurationError(f"{what}: the value nests too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
