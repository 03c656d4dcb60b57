"""Hook specifications: the contract between msmcore and its plugins.

A plugin is a module (usually ``msm_<family>.plugin``) named by an entry point
in the ``msmcore.plugins`` group. It implements one or more of these hooks with
:data:`hookimpl`::

    from msmcore.hookspecs import hookimpl

    @hookimpl
    def msm_register_components(register):
        register("fluid.diffusion", Diffusion)

Every hook is keyword-only and documented in ``docs/plugins.md``; a test checks
that each hook specification defined here appears there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT_NAME = "msmcore"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

#: Signature of the ``register`` callable handed to :func:`msm_register_components`.
RegisterComponent = Callable[..., None]


@hookspec
def msm_register_components(register: RegisterComponent) -> None:
    """Register the component classes this plugin provides.

    Parameters
    ----------
    register
        Call ``register(key, factory, description=None)`` once per component.
        ``key`` is ``"<family>.<component>"`` (for example
        ``"fluid.diffusion"``); ``factory`` is a :class:`msmcore.Component`
        subclass (or any callable taking the component's settings as keyword
        arguments and returning a component), or a ``"package.module:Class"``
        reference imported only when the component is first used;
        ``description`` is one line for ``msm plugins`` and defaults to the
        first line of the factory's docstring (give it with a reference).
    """


@hookspec
def msm_plugin_info() -> dict[str, Any] | None:
    """Return optional metadata about the plugin for ``msm plugins``.

    Returns
    -------
    dict or None
        Keys understood: ``"description"`` (one line shown when a component
        has no docstring), ``"url"`` (documentation address) and
        ``"citation"`` (how to cite the solver). Unknown keys are kept and
        shown by ``msm plugins --json``.
    """


#: Signature of the ``register`` callable handed to :func:`msm_register_surrogates`.
RegisterSurrogate = Callable[..., None]


@hookspec
def msm_register_surrogates(register: RegisterSurrogate) -> None:
    """Register surrogate model factories (see :mod:`msmcore.surrogate`).

    Parameters
    ----------
    register
        Call ``register(key, factory)`` once per model. ``key`` is
        ``"<family>.<model>"`` (for example ``"ml.gp"``); ``factory`` is a class
        or callable taking ``seed=`` and the model's options as keyword arguments
        and returning an object with ``fit(X, Y)``, ``predict(X) -> (mean, std)``,
        ``save_state()`` and ``restore_state(state)``, or a
        ``"package.module:Class"`` reference imported only when first used.
        ``Coupling.add(..., surrogate={"model": key, ...})`` builds one per run.
    """
