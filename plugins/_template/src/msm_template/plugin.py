"""Entry point of the plugin: registers its components with msmcore."""

from __future__ import annotations

from msmcore import hookimpl


@hookimpl
def msm_register_components(register):  # type: ignore[no-untyped-def]
    """Register this plugin's components."""
    from msm_template.decay import Decay  # imported when msmcore asks, not before

    register("template.decay", Decay)
