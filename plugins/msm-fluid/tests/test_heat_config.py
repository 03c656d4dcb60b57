"""Every configuration error of fluid.heat is a ConfigurationError naming the
component, the setting and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest
from msm_fluid import Heat

import msmcore as msm

OK: dict[str, Any] = {"size": (1.0, 1.0), "nodes": (5, 5), "dt": 0.1}


@pytest.mark.parametrize(
    "changes,pattern",
    [
        ({"nodes": (2, 5)}, r"'nodes' of component 'h' must be a pair of integers >= 3.*2 nodes on an axis"),
        ({"nodes": (5,)}, r"'nodes'.*\(5,\) is not a pair"),
        ({"nodes": (5, 4.5)}, r"'nodes'.*4.5 is not an integer"),
        ({"nodes": "55"}, r"'nodes'.*'55' is not a pair"),
        ({"size": (1.0, 0.0)}, r"'size' of component 'h' must be a pair of floats > 0.*0.0 is not > 0"),
        ({"size": (1.0, float("inf"))}, r"'size'.*inf is not finite"),
        ({"origin": (0.0, "a")}, r"'origin' of component 'h' must be a pair of finite floats"),
        ({"dt": 0.0}, r"'dt' of component 'h' must be a finite float > 0"),
        ({"kappa": -1.0}, r"'kappa' of component 'h' must be a finite float > 0"),
        ({"interface_edge": "north", "interface_role": "dirichlet"},
         r"'interface_edge' of component 'h' must be one of 'left', 'right', 'bottom', 'top' or None"),
        ({"interface_edge": "left", "interface_role": "robin"},
         r"'interface_role' of component 'h' must be 'dirichlet', 'neumann' or None"),
        ({"interface_edge": "left"}, r"component 'h': 'interface_edge' and 'interface_role' go together; got "
                                     r"interface_edge='left', interface_role=None"),
        ({"interface_role": "neumann"}, r"'interface_edge' and 'interface_role' go together"),
        ({"boundary": [1, 2]}, r"'boundary' of component 'h' must be a number, a callable g\(x, y, t\) or an "
                               r"expression.*neither a number, an expression string nor a callable"),
        ({"source": float("nan")}, r"'source'.*nan is not finite"),
        ({"constants": {"x": 1.0}}, r"'constants' of component 'h' must be a mapping.*'x' is reserved"),
        ({"constants": {"sin": 1.0}}, r"'constants'.*'sin' is reserved"),
        ({"constants": {"a b": 1.0}}, r"'constants'.*'a b' is not an identifier"),
        ({"constants": {"a": "one"}}, r"'constants'.*value 'one' of constant 'a' is not a number"),
        ({"constants": [1, 2]}, r"'constants'.*not a mapping"),
        ({"boundary": "a*x"}, r"setting 'boundary' of component 'h': expression 'a\*x' uses unknown name\(s\) a"),
        ({"ksp_rtol": 0.0}, r"'ksp_rtol' of component 'h' must be a finite float > 0"),
        ({"nonsense": 1}, r"component 'h' \(Heat\) has no setting\(s\) 'nonsense'"),
    ],
)
def test_configuration_errors(changes: dict[str, Any], pattern: str) -> None:
    with pytest.raises(msm.ConfigurationError, match=pattern):
        Heat(name="h", **{**OK, **changes})


def test_required_settings() -> None:
    for missing in ("size", "nodes", "dt"):
        settings = {k: v for k, v in OK.items() if k != missing}
        with pytest.raises(msm.ConfigurationError, match=rf"component 'h' needs setting '{missing}'"):
            Heat(name="h", **settings)


def test_accepted_spellings() -> None:
    # YAML-friendly: strings for numbers, "none" for no interface, any case for names.
    c = Heat(name="h", size=("1", "2"), nodes=("5", 6.0), dt="0.1", interface_edge="Right",
             interface_role="NEUMANN", constants={"k": "2.5"})
    assert c.size == (1.0, 2.0) and c.nodes == (5, 6) and c.interface_edge == "right"
    assert c.interface_role == "neumann" and c.constants == {"k": 2.5}
    assert Heat(name="h", interface_edge="none", interface_role=None, **OK).edge is None


def test_failing_functions_are_reported_at_initialize() -> None:
    # boundary 1/x is infinite at x = 0; a callable that raises names its setting and time.
    c = Heat(name="h", boundary="1/x", **OK)
    with pytest.raises(msm.ConfigurationError,
                       match=r"setting 'boundary' of component 'h' is not finite at t=0, x=0, y=0"):
        c.initialize()

    def bad(x, y, t):
        raise RuntimeError("no data for this time")

    c = Heat(name="h", source=bad, **OK)
    c.initialize()
    with pytest.raises(msm.ConfigurationError,
                       match=r"setting 'source' of component 'h' failed at t=0.1: no data for this time"):
        c.advance(0.1)


def test_non_finite_interface_input_is_a_coupling_error() -> None:
    c = Heat(name="h", interface_edge="left", interface_role="neumann", **OK)
    c.initialize()
    c.port_array("flux_in")[2] = float("nan")
    with pytest.raises(msm.CouplingError, match=r"component 'h': port 'flux_in' holds non-finite values at t=0"):
        c.advance(0.1)
