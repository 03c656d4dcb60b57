"""Every configuration error of fluid.diffusion is a ConfigurationError that
names the component, the setting and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest
from msm_fluid import Diffusion

import msmcore as msm

OK: dict[str, Any] = {"shape": (10,), "D": 1.0, "dt": 0.1}


@pytest.mark.parametrize(
    "changes,pattern",
    [
        ({"shape": ()}, r"'shape' of component 'macro' must be a tuple of 1 to 3 positive integers.*0 axes"),
        ({"shape": (2, 2, 2, 2)}, r"'shape'.*4 axes"),
        ({"shape": (10, 0)}, r"'shape'.*axis 1 has 0 cells"),
        ({"shape": (2.5,)}, r"'shape'.*2.5 is not an integer"),
        ({"shape": "ten"}, r"'shape'.*'ten' is not an integer"),
        ({"shape": None}, r"'shape'.*not a sequence"),
        ({"spacing": -1.0}, r"'spacing' of component 'macro' must be a float > 0"),
        ({"spacing": (1.0, 2.0)}, r"'spacing' of component 'macro' has 2 entries.*'shape' \(10,\) has 1 axes"),
        ({"D": 0.0}, r"'D' of component 'macro' must be a finite float > 0"),
        ({"dt": -0.1}, r"'dt' of component 'macro' must be a finite float > 0"),
        ({"dt": 0.6}, r"'dt' of component 'macro': dt=0.6 exceeds the explicit stability limit "
                      r"h_min\^2/\(2\*dim\*D\) = 1\^2/\(2\*1\*1\) = 0.5; use dt <= 0.5 or method='implicit'"),
        ({"method": "rk4"}, r"'method' of component 'macro' must be one of \['explicit', 'implicit'\]"),
        ({"boundary": "periodic"}, r"'boundary'.*must be one of \['neumann', 'dirichlet', 'copy-increment'\]"),
        ({"boundary": "copy-increment", "method": "implicit"},
         r"component 'macro': boundary='copy-increment'.*explicit increment only; use method='explicit'"),
        ({"initial_points": {10: 1.0}}, r"'initial_points' of component 'macro': flat cell index 10 is "
                                        r"outside the grid of shape \(10,\); flat indices run from 0 to 9"),
        ({"initial_points": {-1: 1.0}}, r"'initial_points'.*flat cell index -1 is outside"),
        ({"initial_points": {"3,4": 1.0}}, r"'initial_points'.*cell \(3, 4\) is outside the grid of shape \(10,\); "
                                           r"give 1 indices"),
        ({"initial_points": {"x": 1.0}}, r"'initial_points'.*cell index 'x' is not an integer"),
        ({"initial_points": {3: "a lot"}}, r"'initial_points'.*must be a mapping"),
        ({"initial_points": [3]}, r"'initial_points'.*not a mapping"),
        ({"boundary": "dirichlet", "initial_points": {"9": 1.0}},
         r"'initial_points'.*cell 9 is a boundary cell.*set boundary_value instead"),
        ({"ksp_rtol": 0}, r"'ksp_rtol'.*must be a finite float > 0"),
        ({"viscosity": 1.0}, r"component 'macro' \(Diffusion\) has no setting\(s\) 'viscosity'"),
    ],
)
def test_configuration_errors_are_helpful(changes: dict[str, Any], pattern: str) -> None:
    # Each message must say which component, which setting and what is allowed.
    settings = {**OK, **changes}
    with pytest.raises(msm.ConfigurationError, match=pattern):
        Diffusion(name="macro", **settings)


def test_missing_required_settings_are_named() -> None:
    # shape, D and dt have no default.
    with pytest.raises(msm.ConfigurationError, match=r"component 'macro' needs setting 'D'"):
        Diffusion(name="macro", shape=(3,), dt=0.1)


def test_stability_limit_uses_smallest_spacing_and_dimension() -> None:
    # h_min^2 / (2 dim D) = 0.1^2 / (2 * 2 * 0.5) = 0.005: equal is allowed, above is not.
    c = Diffusion(shape=(4, 4), spacing=(0.1, 0.3), D=0.5, dt=0.005)
    assert c.stability_limit() == pytest.approx(0.005, rel=1e-15)
    with pytest.raises(msm.ConfigurationError, match=r"= 0.005; use dt <= 0.005"):
        Diffusion(shape=(4, 4), spacing=(0.1, 0.3), D=0.5, dt=0.0051)
    Diffusion(shape=(4, 4), spacing=(0.1, 0.3), D=0.5, dt=1.0, method="implicit")  # no limit


def test_yaml_style_values_are_accepted() -> None:
    # What a YAML file gives: lists and string keys. The points land where
    # they say: flat "7" = (1, 2) in a (5, 5) grid in C order, "3,4" = (3, 4).
    c = Diffusion(shape=[5, 5], spacing=[0.5, 0.5], D=1.0, dt=0.01,
                  initial_points={"7": 2.0, "3,4": 3.0, "(0, 1)": 4.0})
    c.initialize()
    u = c.port_array("state_out")
    assert (u[1, 2], u[3, 4], u[0, 1]) == (2.0, 3.0, 4.0)
    assert u.sum() == 9.0
