"""msmcore: couple independently installable physics solvers through PETSc.

The public API is re-exported here::

    import msmcore as msm

    @msm.register_component("mylab.decay")
    class Decay(msm.Component):
        ...
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from msmcore.acceleration import IQNILS, Acceleration, Aitken, ConstantRelaxation, NoAcceleration
from msmcore.agents import AgentChange, AgentSet
from msmcore.component import Component
from msmcore.coupling import Connection, Coupling
from msmcore.errors import (
    ConfigurationError,
    ConvergenceError,
    CouplingError,
    DuplicateComponentError,
    MSMError,
    PluginLoadError,
    UnknownComponentError,
)
from msmcore.hookspecs import hookimpl
from msmcore.plugins import PluginWarning, get_registry, register_component
from msmcore.ports import Direction, FieldSpec, Port
from msmcore.schemes import ConvergenceWarning, Implicit, MacroMicro, Parallel, Scheme, Serial
from msmcore.settings import REQUIRED, Setting
from msmcore.stream import ResultsFile

try:
    __version__ = version("msmcore")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = [
    "IQNILS",
    "Acceleration",
    "AgentChange",
    "AgentSet",
    "Aitken",
    "CheckpointError",
    "CheckpointWarning",
    "Checkpoints",
    "Component",
    "ConstantRelaxation",
    "ConvergenceWarning",
    "Implicit",
    "NoAcceleration",
    "Connection",
    "Coupling",
    "MacroMicro",
    "Parallel",
    "Result",
    "ResultsFile",
    "Scheme",
    "Serial",
    "ConfigurationError",
    "ConvergenceError",
    "CouplingError",
    "Direction",
    "DuplicateComponentError",
    "FieldSpec",
    "MSMError",
    "PluginLoadError",
    "PluginWarning",
    "Port",
    "REQUIRED",
    "Setting",
    "UnknownComponentError",
    "__version__",
    "get_registry",
    "hookimpl",
    "register_component",
]


def __getattr__(name: str) -> Any:
    # Result pulls in xarray, the checkpoints h5py; import them only when asked for.
    if name == "Result":
        from msmcore.results import Result

        return Result
    if name in ("Checkpoints", "CheckpointError", "CheckpointWarning"):
        from msmcore import checkpoint

        return getattr(checkpoint, name)
    raise AttributeError(f"module 'msmcore' has no attribute {name!r}")
