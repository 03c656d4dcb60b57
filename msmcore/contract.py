"""Checks of the component contract that the runner makes while a coupling runs.

* Port arrays are the component's own memory, written in place: a component that
  rebinds an attribute holding a port array (``self.u = self.u * 0.5`` instead of
  ``self.u *= 0.5``) would silently stop exchanging data, so :class:`ArrayWatch`
  notices it after ``initialize`` and every ``advance`` and raises.
* Input ports fed by several connections that each write part of them (one
  value per point through ``target_component``): :func:`delivered_mask` says
  which values the coupling writes, for :meth:`msmcore.Component.delivered`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from msmcore.component import Component
from msmcore.errors import CouplingError

__all__ = ["ArrayWatch", "delivered_mask"]


class ArrayWatch:
    """The port arrays of one component, and its attributes that alias them.

    Built right after ``initialize``; :meth:`check` is cheap (identity tests)
    and is called after every call that may rebind an attribute.
    """

    def __init__(self, component: Component, where: str) -> None:
        self.name = component.name
        self.where = where
        # agent ports may be reallocated when their agents change (their length is checked instead)
        self.ports = {p: component.port_array(p) for p, port in component.ports.items() if port.agents is None}
        self.aliases: dict[str, tuple[np.ndarray, str]] = {}
        for attr, value in vars(component).items():
            if not isinstance(value, np.ndarray) or value.size == 0:
                continue
            port = self._port_of(value)
            if port is not None:
                self.aliases[attr] = (value, port)

    def _port_of(self, value: np.ndarray) -> str | None:
        for port, array in self.ports.items():
            if array.size and (value is array or np.may_share_memory(value, array)):
                return port
        return None

    def check(self, component: Component, when: str) -> None:
        """Raise :class:`CouplingError` if a port array was replaced or an alias of one rebound."""
        attributes = component.__dict__
        for attr, (value, port) in self.aliases.items():
            now = attributes.get(attr)
            if now is value:
                continue
            if isinstance(now, np.ndarray) and self._port_of(now) == port:  # a new view of the same memory
                self.aliases[attr] = (now, port)
                continue
            raise CouplingError(
                f"{self.where}: attribute '{attr}', which held the array of port '{port}', was bound to a new "
                f"object {when}; the coupling exchanges the port's own array, so its data would silently stop "
                f"moving. Write in place instead: self.{attr}[...] = <new values>, or self.{attr} *= 0.5 "
                f"rather than self.{attr} = self.{attr} * 0.5",
                component=self.name,
            )
        for port, array in self.ports.items():
            if component.port_array(port) is not array:
                raise CouplingError(
                    f"{self.where}: port_array('{port}') returned a different array {when} than after "
                    "initialize(); a port's array must stay the same object for the whole run (write it in "
                    "place)",
                    component=self.name,
                )


def delivered_mask(shape: tuple[int, ...], written: Sequence[np.ndarray | None]) -> np.ndarray | None:
    """Which values of a local port array of ``shape`` the given connections write.

    ``written`` holds, per connection into the port, the flat local positions it
    writes (``None``: all). ``None`` when together they write every value.
    """
    if any(w is None for w in written):
        return None
    mask = np.zeros(int(np.prod(shape, dtype=np.int64)), dtype=bool)
    for positions in written:
        mask[positions] = True
    if mask.all():
        return None
    return mask.reshape(shape)
