"""Tiny JSON (de)serialisation helpers for frozen dataclasses.

Every public dataclass of the solver inherits `Serial`, which gives it a
`to_dict()` producing JSON-safe data (lists, dicts, str, int, float, bool,
None) and a `from_dict()` that rebuilds the exact dataclass from that data,
so the run worker can store input snapshots and results as JSON and re-derive
everything from the snapshot alone.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T", bound="Serial")


def _dump(value: Any) -> Any:
    # Plain-data form of one value (dataclasses, tuples, lists, dicts, scalars).
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
    if hasattr(value, "to_dict"):  # a columnar table (solver.pairs.PairTable)
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _dump(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):  # NaN is not JSON
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        return value.item()
    return value


def _load(tp: Any, data: Any) -> Any:
    # Rebuild a value of static type `tp` from its plain-data form.
    if data is None or tp is Any:
        return data
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        for option in options:
            try:
                return _load(option, data)
            except (TypeError, ValueError, KeyError, AttributeError):
                continue
        return data
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_load(args[0], v) for v in data)
        return tuple(_load(a, v) for a, v in zip(args, data))
    if origin is list:
        (arg,) = get_args(tp) or (Any,)
        return [_load(arg, v) for v in data]
    if origin is dict:
        key_t, val_t = get_args(tp) or (Any, Any)
        return {_load(key_t, k): _load(val_t, v) for k, v in data.items()}
    if isinstance(tp, type) and not dataclasses.is_dataclass(tp) and hasattr(tp, "from_dict"):
        return tp.from_dict(data)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise TypeError(f"expected object for {tp.__name__}")
        return tp.from_dict(data)  # type: ignore[attr-defined]
    if tp is float and isinstance(data, (int, float)) and not isinstance(data, bool):
        return float(data)
    if tp is int and isinstance(data, bool):
        raise TypeError("bool is not int")
    if isinstance(tp, type) and tp in (int, str, bool) and not isinstance(data, tp):
        raise TypeError(f"expected {tp.__name__}, got {type(data).__name__}")
    return data


class Serial:
    """Mixin: `to_dict()` / `from_dict()` for (nested) dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        out = _dump(self)
        assert isinstance(out, dict)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> typing.Self:
        kwargs: dict[str, Any] = {}
        klass: type = cls  # mypy checks type[Self] against Hashable with the instance __hash__
        for name, hint in _fields(klass):
            if name in data:
                kwargs[name] = _load(hint, data[name])
        return cls(**kwargs)


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, Any], ...]:
    # Field names with resolved type hints, computed once per class (resolving hints is slow).
    hints = get_type_hints(
        cls, vars(typing) | vars(__import__(cls.__module__, fromlist=["*"]))
    )
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))
