"""Lossless encoding of nested state objects into HDF5 groups (h5py), and a checksum over it.

A checkpoint holds what components, schemes and the recorder return as their
state: nested ``dict`` / ``list`` / ``tuple`` / ``set`` / ``frozenset`` of
NumPy arrays, NumPy scalars, ``float``, ``int``, ``bool``, ``str``, ``bytes``
and ``None``. :func:`encode` writes such a tree into an h5py group, each node
tagged with its Python type (the attribute ``msm_type``), and :func:`decode`
gives back an equal tree: same types, same dtypes, same bits (``-0.0`` and
NaN payloads included). Anything else is refused with a :class:`StateEncodingError`
naming where in the tree it sits — nothing is pickled.

:class:`Digest` hashes (SHA-256) the canonical content while it is written
and while it is read back — every node's tag, dtype, shape and raw bytes, or
its number of children and keys, in tree order — so that a snapshot proves on
reading that it is the one written, without a second pass over the file.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import h5py
import numpy as np

from msmcore.errors import MSMError

__all__ = ["Digest", "StateEncodingError", "check_encodable", "decode", "encode"]

_TAG = "msm_type"
_INT64 = (-(2**63), 2**63 - 1)


class StateEncodingError(MSMError, TypeError):
    """A state holds a value that a checkpoint cannot store (it is never pickled)."""


def _refuse(value: Any, where: str, why: str = "") -> StateEncodingError:
    return StateEncodingError(
        f"{where} holds a {type(value).__module__}.{type(value).__qualname__}{why}, which a checkpoint cannot "
        "store; a state may hold only (exactly, not subclasses of) dict/list/tuple/set/frozenset, NumPy arrays "
        "and scalars, float, int, bool, str, "
        "bytes and None — return such a form from save_state() (e.g. an OpenMM checkpoint as bytes, an "
        "RNG's bit_generator.state as a dict)")


def _array_ok(value: np.ndarray, where: str) -> None:
    if value.dtype.kind in "OUSMmV" or value.dtype.fields is not None:
        raise _refuse(value, where, f" of dtype {value.dtype}")


_SCALARS = (bool, int, float, str, bytes)
_SEQUENCES = (list, tuple, set, frozenset)


def check_encodable(value: Any, where: str) -> None:
    """Raise :class:`StateEncodingError`, naming the key path from ``where``, unless :func:`encode` stores ``value``.

    Types are matched exactly: a subclass (a masked array, an ``IntEnum``, a
    ``defaultdict``, a named tuple) would come back as its base class, so it is refused.
    """
    if type(value) is np.ndarray:
        _array_ok(value, where)
    elif isinstance(value, np.generic):
        _array_ok(np.asarray(value), where)
    elif value is None or type(value) in _SCALARS:
        return
    elif type(value) is dict:
        for k, v in value.items():
            if not isinstance(k, (str, int, float, bool, bytes, tuple, type(None))) and not isinstance(k, np.generic):
                raise _refuse(k, f"{where} (a key)")
            check_encodable(k, f"{where} (key {k!r})")
            check_encodable(v, f"{where}[{k!r}]")
    elif type(value) in _SEQUENCES:
        for i, v in enumerate(value):
            check_encodable(v, f"{where}[{i}]")
    else:
        raise _refuse(value, where)


class Digest:
    """SHA-256 over what :func:`encode` writes (or :func:`decode` reads), node by node in tree order.

    Each node adds its tag, its dtype, shape and raw bytes (datasets) or its
    number of children and keys (groups): the canonical content, independent of
    how HDF5 lays it out in the file.
    """

    def __init__(self) -> None:
        self._sha = hashlib.sha256()

    def leaf(self, tag: str, data: np.ndarray | np.generic) -> None:
        """A dataset: tag, dtype, shape and bytes."""
        array = np.asarray(data)
        self._sha.update(f"{tag}\0{array.dtype.str}\0{array.shape}\0".encode())
        self._sha.update(array.tobytes())

    def node(self, tag: str, children: int, keys: str = "") -> None:
        """A group: tag, number of children, keys."""
        self._sha.update(f"{tag}\0{children}\0{keys}\0".encode())

    def hexdigest(self) -> str:
        """The checksum so far."""
        return self._sha.hexdigest()


def _leaf(group: h5py.Group, name: str, data: np.ndarray | np.generic, tag: str, digest: Digest | None) -> None:
    group.create_dataset(name, data=data).attrs[_TAG] = tag
    if digest is not None:
        digest.leaf(tag, data)


def encode(group: h5py.Group, name: str, value: Any, where: str, digest: Digest | None = None) -> None:
    """Write ``value`` as ``group[name]``; ``where`` names it in errors (e.g. ``"component 'macro' state"``).

    ``digest`` (a :class:`Digest`) is updated with what is written.
    """
    if type(value) is np.ndarray:
        _array_ok(value, where)
        _leaf(group, name, value if value.flags.c_contiguous else value.copy(order="C"), "ndarray", digest)
    elif isinstance(value, np.generic):  # before float: np.float64 is a float
        _array_ok(np.asarray(value), where)
        _leaf(group, name, np.asarray(value), "npscalar", digest)
    elif value is None:
        group.create_group(name).attrs[_TAG] = "none"
        if digest is not None:
            digest.node("none", 0)
    elif type(value) is bool:
        _leaf(group, name, np.asarray(np.bool_(value)), "bool", digest)
    elif type(value) is int:
        if _INT64[0] <= value <= _INT64[1]:
            _leaf(group, name, np.asarray(np.int64(value)), "int", digest)
        else:
            _leaf(group, name, _opaque(str(value).encode()), "bigint", digest)
    elif type(value) is float:
        _leaf(group, name, np.asarray(np.float64(value)), "float", digest)
    elif type(value) is str:
        _leaf(group, name, _opaque(value.encode("utf-8", "surrogatepass")), "str", digest)
    elif type(value) is bytes:
        _leaf(group, name, _opaque(value), "bytes", digest)
    elif type(value) is dict:
        sub = group.create_group(name, track_order=True)
        if all(type(k) is str for k in value):  # the common case: keys in one attribute, values as children
            keys = json.dumps(list(value))
            sub.attrs[_TAG] = "strdict"
            sub.attrs["keys"] = keys
            if digest is not None:
                digest.node("strdict", len(value), keys)
            for i, (k, v) in enumerate(value.items()):
                encode(sub, f"{i:08d}", v, f"{where}[{k!r}]", digest)
        else:
            sub.attrs[_TAG] = "dict"
            if digest is not None:
                digest.node("dict", len(value))
            for i, (k, v) in enumerate(value.items()):
                encode(sub, f"{i:08d}k", k, f"{where} (key {k!r})", digest)
                encode(sub, f"{i:08d}v", v, f"{where}[{k!r}]", digest)
    elif type(value) in _SEQUENCES:
        sub = group.create_group(name, track_order=True)
        tag = type(value).__name__
        sub.attrs[_TAG] = tag
        if digest is not None:
            digest.node(tag, len(value))
        for i, v in enumerate(value):
            encode(sub, f"{i:08d}", v, f"{where}[{i}]", digest)
    else:
        raise _refuse(value, where)


def _opaque(data: bytes) -> np.ndarray | np.generic:
    """Bytes as one HDF5 opaque value (``np.void``); empty ones as an empty ``uint8`` array."""
    return np.void(data) if data else np.zeros(0, dtype=np.uint8)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def decode(node: h5py.Group | h5py.Dataset, digest: Digest | None = None) -> Any:
    """The value :func:`encode` wrote as ``node``; ``digest`` is updated with what is read."""
    tag = _text(node.attrs.get(_TAG))
    if isinstance(node, h5py.Dataset):
        raw = node[()]
        data = raw if isinstance(raw, (np.ndarray, np.generic)) else np.asarray(raw)
        if digest is not None:
            digest.leaf(tag, data)
        if tag == "ndarray":
            return np.array(data, dtype=node.dtype, copy=True) if node.shape == () else data
        if tag == "npscalar":
            return node.dtype.type(data)
        if tag == "bool":
            return bool(data)
        if tag == "int":
            return int(data)
        if tag == "float":
            return float(data)
        if tag in ("bigint", "str", "bytes"):
            blob = np.asarray(data).tobytes()
            return int(blob.decode()) if tag == "bigint" else blob.decode("utf-8", "surrogatepass") \
                if tag == "str" else blob
    else:
        children = [node[k] for k in node]  # track_order: creation order
        if tag == "none":
            if digest is not None:
                digest.node("none", 0)
            return None
        if tag == "strdict":
            keys_text = _text(node.attrs["keys"])
            if digest is not None:
                digest.node(tag, len(children), keys_text)
            keys = json.loads(keys_text)
            if len(keys) != len(children):
                raise MSMError(f"checkpoint node {node.name} lists {len(keys)} keys for {len(children)} values")
            return {k: decode(c, digest) for k, c in zip(keys, children, strict=True)}
        if digest is not None and tag in ("dict", "list", "tuple", "set", "frozenset"):
            digest.node(tag, len(children) // 2 if tag == "dict" else len(children))
        if tag == "dict":
            out = {}
            for k, v in zip(children[0::2], children[1::2], strict=True):
                key = decode(k, digest)
                out[key] = decode(v, digest)
            return out
        items = [decode(c, digest) for c in children]
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
