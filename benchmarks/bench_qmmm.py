"""Time per QM/MM step of examples/qmmm_water, split into SCF, MM and coupling.

One QM water (quantum.scf on PySCF) in TIP3P (md.openmm on OpenMM's CPU platform, 1 thread),
NVE, one coupling window per 0.5 fs step. Per step, from msmcore's profiler
(``Result.profile_totals(kinds=True)``) and md.openmm's own ``timings``:

* SCF: quantum.scf's ``advance`` (SCF + gradients + charges + dipole, embedding included);
* MM: OpenMM's integrator steps inside md.openmm's ``advance``;
* coupling: everything else a step costs - the transfers and ``receive`` calls of the five
  connections (unit conversions included), md.openmm's external-force update and its state
  read / nearest images / port writes, and msmcore's framework overhead.

Each term is the difference between a run of ``LONG`` and one of ``SHORT`` steps divided by
``LONG - SHORT`` (start-up, SCF from scratch and the first force evaluations cancel), median
over ``REPEAT`` pairs. Prints one JSON line (the last line) for benchmarks/run.py.
``--quick``: the reduced system only, fewer steps.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402

import msmcore as msm  # noqa: E402

spec = importlib.util.spec_from_file_location("qmmm_example", ROOT / "examples" / "qmmm_water" / "qmmm.py")
qmmm = importlib.util.module_from_spec(spec)
sys.modules["qmmm_example"] = qmmm
spec.loader.exec_module(qmmm)


def parts(setup: qmmm.Setup, steps: int) -> dict[str, float]:
    """Seconds of SCF, MM and coupling in an NVE run of ``steps`` steps."""
    c = qmmm.build(setup, "verlet")
    res = c.run(until=steps * setup.dt, scheme=msm.Serial(window=setup.dt, order=["qm", "md"]),
                quiet=True, profile=True)
    totals = res.profile_totals(kinds=True)
    timings = dict(c.components["md"].timings)   # md.openmm's split of its advance
    scf = float(totals.loc["qm", "advance"])
    mm = timings["md"]
    coupling = (float(totals[["transfer", "receive"]].drop(index="(framework overhead)").to_numpy().sum())
                + timings["forces_in"] + timings["publish"]
                + float(totals.loc["(framework overhead)", "total"]))
    return {"scf": scf, "mm": mm, "coupling": coupling, "wall": float(totals.attrs["wall_s"])}


def per_step(setup: qmmm.Setup, short: int, long: int, repeat: int) -> dict[str, float]:
    """Median per-step seconds of each part (difference of a long and a short run)."""
    samples: dict[str, list[float]] = {"scf": [], "mm": [], "coupling": []}
    for _ in range(repeat):
        a, b = parts(setup, short), parts(setup, long)
        for k in samples:
            samples[k].append((b[k] - a[k]) / (long - short))
    out = {k: statistics.median(v) for k, v in samples.items()}
    out["coupling_over_scf"] = out["coupling"] / out["scf"]
    return out


def main() -> None:
    quick = "--quick" in sys.argv
    cases = {"64 waters, RHF/STO-3G": (qmmm.REDUCED, 5, 25 if quick else 45)}
    if not quick:
        cases["216 waters, RHF/6-31G*"] = (qmmm.Setup(equilibrate=0), 5, 35)
    result: dict[str, object] = {"machine": machine()}
    for label, (setup, short, long) in cases.items():
        n_mm = 3 * (64 if "64" in label else 216) - 3
        result[label] = {"n_mm": n_mm, **per_step(setup, short, long, repeat=1 if quick else 3)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
