"""One reaction network per agent: settings and how the state follows the agents.

With ``agents="<name>"`` the ports of ``kinetics.network`` are agent ports that
follow the agent set connected to it (e.g. a cell model's cells): one network per
agent, as many as there are now. When the agents change (see
:class:`msmcore.AgentChange`), survivors keep their state, dead agents drop out, a
daughter inherits from its parent per species as ``inherit`` says - ``"split"``
(the value is an amount: parent and daughter get half each, the total is
conserved) or ``"copy"`` (the value is a concentration: the daughter gets the
parent's) - and an agent added without a parent starts at the model's initial values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

import msmcore as msm

if TYPE_CHECKING:
    from msm_kinetics.integrator import TSIntegrator

    _Component = msm.Component
else:
    _Component = object

__all__ = ["AgentFollowing", "carry_state", "inherit_modes", "inherit_value"]

_MODES = ("copy", "split")


def inherit_value(value: Any) -> str | dict[str, str]:
    """Convert an ``inherit`` setting: ``"copy"``, ``"split"``, or ``{species: "copy" | "split"}``."""
    if isinstance(value, str):
        if value not in _MODES:
            raise ValueError(f"expected 'copy' or 'split' (or a mapping species -> one of them), got {value!r}")
        return value
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str) or v not in _MODES:
                raise ValueError(f"inherit[{k!r}] = {v!r}: give species names mapped to 'copy' or 'split'")
            out[k] = str(v)
        return out
    raise ValueError(f"expected 'copy', 'split' or a mapping species -> one of them, got {value!r}")


def inherit_modes(setting: str | dict[str, str], species: tuple[str, ...], where: str) -> np.ndarray:
    """One mode per species (port order); a mapping names species, the others copy.

    Raises
    ------
    msmcore.ConfigurationError
        A species the model does not have.
    """
    if isinstance(setting, str):
        return np.array([setting] * len(species))
    unknown = sorted(set(setting) - set(species))
    if unknown:
        raise msm.ConfigurationError(f"setting 'inherit' of {where} names {unknown}, which are not species of the "
                                     f"model ({', '.join(species)})")
    return np.array([setting.get(s, "copy") for s in species])


def carry_state(change: msm.AgentChange, state: np.ndarray, modes: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """The ``(agents, species)`` state laid out for the new agents (see the module notes)."""
    carried = change.carry(state, modes, fill=np.nan)
    fresh = np.isin(change.new_ids, change.born[change.parents < 0])
    carried[fresh] = initial
    return carried


def _tail(k: int) -> tuple[int, ...]:
    return () if k == 1 else (k,)


class AgentFollowing(_Component):
    """What :class:`msm_kinetics.network.Network` does when its agents change or a snapshot is restored."""

    # What this mixin uses of the Network (a Component) it is mixed into; defined there.
    species_names: tuple[str, ...]
    ncells: int
    inherit_modes: np.ndarray
    _initial: np.ndarray
    _integrator: TSIntegrator | None
    _c: np.ndarray | None
    _r: np.ndarray | None

    if TYPE_CHECKING:
        @property
        def state(self) -> np.ndarray: ...
        @property
        def rates(self) -> np.ndarray: ...
        def _views(self) -> tuple[np.ndarray, np.ndarray]: ...
        def _lay_out(self) -> None: ...
        def _make_integrator(self) -> None: ...
        def compute_rates(self) -> np.ndarray: ...

    def agents_changed(self, name: str, change: msm.AgentChange) -> None:
        """The agents changed: survivors keep their state, daughters inherit (``inherit``), the dead drop out."""
        ns, nr = len(self.species_names), self.ports["rates_out"].spec.components
        state = carry_state(change, self._views()[0], self.inherit_modes, self._initial)  # the old rows
        if self._integrator is not None:
            self._integrator.destroy()
            self._integrator = None
        self._lay_out()
        self._c = self.set_agent_array("state_out", state.reshape(-1, *_tail(ns))).reshape(-1, ns)
        self.port_array("state_in")  # laid out by the core's default (copied to daughters)
        self._r = self.set_agent_array("rates_out", np.zeros((self.ncells, *_tail(nr)))).reshape(-1, nr)
        self.compute_rates()
        self._make_integrator()

    def _restore_agents(self, state: Any) -> None:
        if self._integrator is not None:
            self._integrator.destroy()
            self._integrator = None
        for port, key in (("state_out", "state"), ("rates_out", "rates"), ("state_in", "state_in")):
            self.set_agent_array(port, state[key])
        self._lay_out()
        self._c = self.state.reshape(self.ncells, len(self.species_names))
        self._r = self.rates.reshape(self.ncells, self.ports["rates_out"].spec.components)
        self._make_integrator()
