"""Lossless encoding of nested state objects into HDF5 groups (h5py), and a checksum over it.

A checkpoint holds what components, schemes and the recorder return as their
state: nested ``dict`` / ``list`` / ``tuple`` / ``set`` / ``frozenset`` of
NumPy arrays, NumPy scalars, ``float``, ``int``, ``bool``, ``str``, ``bytes``
and ``None``. :func:`encode` writes such a tree into an h5py group, each node
tagged with its Python type (the attribute ``msm_type``), and :func:`decode`
gives back an equal tree: same types, same dtypes, same bits (``-0.0`` and
NaN payloads included). Anything else is refused with a :class:`StateEncodingError`
naming where in the tree it sits — nothing is pickled.

:func:`checksum` hashes (SHA-256) the canonical content of a group: every
node's path, tag, dtype, shape and raw bytes, in sorted order, so that a
snapshot can prove on reading that it is the one written.
"""

from __future__ import annotations

import hashlib
from typing import Any

import h5py
import numpy as np

from msmcore.errors import MSMError

__all__ = ["StateEncodingError", "check_encodable", "checksum", "decode", "encode"]

_TAG = "msm_type"
_INT64 = (-(2**63), 2**63 - 1)


class StateEncodingError(MSMError, TypeError):
    """A state holds a value that a checkpoint cannot store (it is never pickled)."""


def _refuse(value: Any, where: str, why: str = "") -> StateEncodingError:
    return StateEncodingError(
        f"{where} holds a {type(value).__module__}.{type(value).__qualname__}{why}, which a checkpoint cannot "
        "store; a state may hold only dict/list/tuple/set, NumPy arrays and scalars, float, int, bool, str, "
        "bytes and None — return such a form from save_state() (e.g. an OpenMM checkpoint as bytes, an "
        "RNG's bit_generator.state as a dict)")


def _array_ok(value: np.ndarray, where: str) -> None:
    if value.dtype.kind in "OUSMmV" or value.dtype.fields is not None:
        raise _refuse(value, where, f" of dtype {value.dtype}")


def check_encodable(value: Any, where: str) -> None:
    """Raise :class:`StateEncodingError`, naming the key path from ``where``, unless :func:`encode` stores ``value``."""
    if isinstance(value, np.ndarray):
        _array_ok(value, where)
    elif isinstance(value, np.generic):
        _array_ok(np.asarray(value), where)
    elif value is None or isinstance(value, (bool, int, float, str, bytes)):
        return
    elif isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, (str, int, float, bool, bytes, tuple, type(None))) and not isinstance(k, np.generic):
                raise _refuse(k, f"{where} (a key)")
            check_encodable(k, f"{where} (key {k!r})")
            check_encodable(v, f"{where}[{k!r}]")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, v in enumerate(value):
            check_encodable(v, f"{where}[{i}]")
    else:
        raise _refuse(value, where)


def encode(group: h5py.Group, name: str, value: Any, where: str) -> None:
    """Write ``value`` as ``group[name]``; ``where`` names it in errors (e.g. ``"component 'macro' state"``)."""
    if isinstance(value, np.ndarray):
        _array_ok(value, where)
        ds = group.create_dataset(name, data=np.ascontiguousarray(value), shape=value.shape)
        ds.attrs[_TAG] = "ndarray"
    elif isinstance(value, np.generic):  # before float: np.float64 is a float
        _array_ok(np.asarray(value), where)
        group.create_dataset(name, data=np.asarray(value)).attrs[_TAG] = "npscalar"
    elif value is None:
        group.create_group(name).attrs[_TAG] = "none"
    elif isinstance(value, bool):
        group.create_dataset(name, data=np.bool_(value)).attrs[_TAG] = "bool"
    elif isinstance(value, int):
        if _INT64[0] <= value <= _INT64[1]:
            group.create_dataset(name, data=np.int64(value)).attrs[_TAG] = "int"
        else:
            _opaque(group, name, str(value).encode(), "bigint")
    elif isinstance(value, float):
        group.create_dataset(name, data=np.float64(value)).attrs[_TAG] = "float"
    elif isinstance(value, str):
        _opaque(group, name, value.encode("utf-8", "surrogatepass"), "str")
    elif isinstance(value, bytes):
        _opaque(group, name, value, "bytes")
    elif isinstance(value, dict):
        sub = group.create_group(name, track_order=True)
        sub.attrs[_TAG] = "dict"
        for i, (k, v) in enumerate(value.items()):
            pair = sub.create_group(f"{i:08d}", track_order=True)
            pair.attrs[_TAG] = "item"
            encode(pair, "key", k, f"{where} (key {k!r})")
            encode(pair, "value", v, f"{where}[{k!r}]")
    elif isinstance(value, (list, tuple, set, frozenset)):
        sub = group.create_group(name, track_order=True)
        sub.attrs[_TAG] = type(value).__name__
        for i, v in enumerate(value):
            encode(sub, f"{i:08d}", v, f"{where}[{i}]")
    else:
        raise _refuse(value, where)


def _opaque(group: h5py.Group, name: str, data: bytes, tag: str) -> None:
    """Bytes as one HDF5 opaque value (``np.void``); empty ones as an empty ``uint8`` array."""
    stored = np.void(data) if data else np.zeros(0, dtype=np.uint8)
    group.create_dataset(name, data=stored).attrs[_TAG] = tag


def _bytes(ds: h5py.Dataset) -> bytes:
    raw = ds[()]
    return raw.tobytes() if isinstance(raw, (np.void, np.ndarray, np.generic)) else bytes(raw)


def decode(node: h5py.Group | h5py.Dataset) -> Any:
    """The value :func:`encode` wrote as ``node``."""
    tag = node.attrs.get(_TAG)
    if isinstance(tag, bytes):
        tag = tag.decode()
    if isinstance(node, h5py.Dataset):
        if tag == "ndarray":
            return node[()] if node.shape != () else np.array(node[()], dtype=node.dtype)
        if tag == "npscalar":
            return node.dtype.type(node[()])
        if tag == "bool":
            return bool(node[()])
        if tag == "int":
            return int(node[()])
        if tag == "float":
            return float(node[()])
        if tag == "bigint":
            return int(_bytes(node).decode())
        if tag == "str":
            return _bytes(node).decode("utf-8", "surrogatepass")
        if tag == "bytes":
            return _bytes(node)
    else:
        if tag == "none":
            return None
        children = [node[k] for k in node]  # track_order: creation order
        if tag == "dict":
            return {_key(decode(c["key"])): decode(c["value"]) for c in children}
        items = [decode(c) for c in children]
        if tag == "list":
            return items
        if tag == "tuple":
            return tuple(items)
        if tag == "set":
            return set(items)
        if tag == "frozenset":
            return frozenset(items)
    raise MSMError(f"checkpoint node {node.name} has an unknown type tag {tag!r}; the file was not written by "
                   "this version of msmcore or is damaged")


def _key(value: Any) -> Any:
    """Keys must be hashable: a list decoded from a tuple key is a tuple already; arrays are not keys."""
    return value


def checksum(group: h5py.Group) -> str:
    """SHA-256 (hex) over the canonical content of ``group``: paths, tags, dtypes, shapes and bytes, sorted."""
    digest = hashlib.sha256()

    def visit(name: str, obj: h5py.Group | h5py.Dataset) -> None:
        tag = obj.attrs.get(_TAG, "")
        digest.update(f"{name}\0{tag}\0".encode())
        if isinstance(obj, h5py.Dataset):
            digest.update(f"{obj.dtype.str}\0{obj.shape}\0".encode())
            data = obj[()]
            digest.update(data.tobytes() if isinstance(data, (np.ndarray, np.generic)) else bytes(data))

    names: list[str] = []
    group.visit(names.append)
    for name in sorted(names):
        visit(name, group[name])
    return digest.hexdigest()
