"""Errors raised by msmcore.

Every error msmcore raises on bad input derives from :class:`MSMError`. A
message says what was wrong, where (component, port, key, time) and what to do
about it, so that a user reading one line knows the next step.
"""

from __future__ import annotations

__all__ = [
    "MSMError",
    "ConfigurationError",
    "PluginLoadError",
    "DuplicateComponentError",
    "UnknownComponentError",
    "CouplingError",
    "ConvergenceError",
]


class MSMError(Exception):
    """Base class of every error msmcore raises on bad input or failed runs.

    Parameters
    ----------
    message
        What was wrong, where and what to do.
    collective
        The error is raised identically on every rank of an MPI run (a
        validation error, an implicit window that did not converge — decided
        from data every rank holds): the run then ends on every rank with this
        ordinary exception. Any other error raised inside a run under MPI may
        be on some ranks only, and aborts the job.
    component
        Instance name of the component the error is about, once known.
    """

    def __init__(self, *args: object, collective: bool = False, component: str | None = None) -> None:
        super().__init__(*args)
        self.collective = collective
        self.component = component


class ConfigurationError(MSMError, ValueError):
    """A setting, a configuration file or an argument is malformed or out of range."""


class PluginLoadError(MSMError):
    """A plugin could not be loaded or registered its components inconsistently."""


class DuplicateComponentError(PluginLoadError):
    """Two sources registered the same component key."""


class UnknownComponentError(MSMError, ValueError):
    """A component key that no installed plugin or script has registered."""


class CouplingError(MSMError):
    """The coupling graph is inconsistent, or a component failed during a run."""


class ConvergenceError(MSMError):
    """An iterative solve or an implicit coupling window did not converge."""
