"""Couplings built in Python for YAML ``build:`` blocks of the checkpoint tests (tests/test_checkpoint_kill.py).

::

    build: {python: /path/to/tests/checkpoint_builds.py:tiny_couette, args: {seed: 2}}
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import msmcore as msm

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

#: The tiny hybrid Couette flow: windows of 0.25 (a few seconds of MD; the test's ``until`` sets how many).
TINY_COUETTE = dict(cells=(4, 8, 4), n_bins=16, boundary_bin=9, constraint_bins=(12, 13), n_cont=11,
                    U=1.0, until=10.0, window=0.25, equilibrate=50)


def _couette() -> ModuleType:
    if "couette_example" not in sys.modules:
        spec = importlib.util.spec_from_file_location("couette_example", EXAMPLES / "couette_hybrid" / "couette.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["couette_example"] = module
        spec.loader.exec_module(module)
    return sys.modules["couette_example"]


def tiny_couette(seed: int = 2) -> tuple[msm.Coupling, msm.Scheme]:
    """examples/couette_hybrid/couette.py's coupling (md.lj with Langevin thermostat + fluid.diffusion), tiny."""
    couette = _couette()
    tiny = couette.Setup(**TINY_COUETTE)
    reduced = couette.setup
    couette.setup = lambda reduced=False: tiny
    try:
        coupling, _ = couette.build(reduced=True, seed=seed)
    finally:
        couette.setup = reduced
    return coupling, msm.Serial(window=tiny.window, order=["md", "continuum"])
