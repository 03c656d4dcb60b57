"""Steady lid-driven cavity, Re = 100 on 128 x 128 nodes: fluid.navier_stokes against PETSc's ex19.

Baseline: PETSc's own tutorial ``src/snes/tutorials/ex19.c`` (driven cavity,
velocity-vorticity-temperature, 4 dof per node, Newton-Krylov with an
FD-coloured Jacobian, GMRES + ILU(0), first-order upwind convection), built
here against the *same* installed PETSc (the petsc package of this venv) and
run with ``-da_grid_x 128 -da_grid_y 128 -lidvelocity 100`` (Re = 100;
Prandtl 1, Grashof 1) and its default ``-snes_rtol 1e-8``. fluid.navier_stokes
solves the same cavity (2 dof per node, central differences, Newton to
1e-8 relative to the residual of the fluid at rest, i.e. the same relative
decrease from the same cold start). Timed: ex19's ``SNESSolve`` event from
``-log_view``; for ours the ``advance`` call (Newton, velocity and the
pressure-Poisson post-solve). Medians of ``--repeat`` runs, alternating.

ex19.c is looked for in ``--ex19-src``, ``$EX19_SRC``, and a PETSc source tree
or sdist tarball given by ``--petsc-src`` (``pip download --no-binary :all:
--no-deps petsc==<version>`` fetches the sdist); without it only ours is timed.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402

NODES = 128


def find_ex19(args: argparse.Namespace, work: Path) -> Path | None:
    for cand in (args.ex19_src, os.environ.get("EX19_SRC")):
        if cand and Path(cand).is_file():
            return Path(cand)
    src = args.petsc_src
    if src and Path(src).is_dir():
        path = Path(src) / "src" / "snes" / "tutorials" / "ex19.c"
        return path if path.is_file() else None
    if src and tarfile.is_tarfile(src):
        with tarfile.open(src) as tar:
            member = next((m for m in tar.getmembers() if m.name.endswith("src/snes/tutorials/ex19.c")), None)
            if member is None:
                return None
            tar.extract(member, work, filter="data")
            return work / member.name
    return None


def build_ex19(source: Path, work: Path) -> Path:
    """Compile ex19.c with mpicc against the venv's PETSc (its include dir and libpetsc)."""
    import petsc

    pdir = Path(petsc.get_petsc_dir())
    exe = work / "ex19"
    subprocess.run(["mpicc", "-O", "-fPIC", f"-I{pdir / 'include'}", str(source), "-o", str(exe),
                    f"-Wl,-rpath,{pdir / 'lib'}", f"-L{pdir / 'lib'}", "-lpetsc", "-lm"], check=True)
    return exe


def time_ex19(exe: Path) -> tuple[float, int]:
    out = subprocess.run([str(exe), "-da_grid_x", str(NODES), "-da_grid_y", str(NODES), "-lidvelocity", "100",
                          "-snes_rtol", "1e-8", "-log_view"], check=True, capture_output=True, text=True).stdout
    solve = float(re.search(r"^SNESSolve\s+\d+\s+\S+\s+(\S+)", out, re.M).group(1))
    its = int(re.search(r"Number of SNES iterations = (\d+)", out).group(1))
    return solve, its


def time_ours() -> tuple[float, int, dict[str, float]]:
    from msm_fluid import NavierStokes

    c = NavierStokes(name="cavity", nodes=(NODES, NODES), viscosity=0.01, wall_velocity={"top": 1.0})
    c.initialize()
    t0 = time.perf_counter()
    c.advance(1.0)
    wall = time.perf_counter() - t0
    m = NODES // 2  # the node just right of / above the centre (128 nodes: no centre node)
    vel = c.port_array("velocity_out")
    facts = {"u_min_centreline": float(vel[m, :, 0].min()), "psi_min": float(c.port_array("streamfunction_out").min())}
    its = c.newton_iterations
    c.finalize()
    return wall, its, facts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ex19-src")
    ap.add_argument("--petsc-src")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = find_ex19(args, work)
        exe = build_ex19(source, work) if source else None
        ours, theirs = [], []
        for _ in range(args.repeat):
            ours.append(time_ours())
            if exe:
                theirs.append(time_ex19(exe))
    result = {"machine": machine(), "nodes": NODES, "re": 100,
              "ours_s": statistics.median(t for t, _, _ in ours), "ours_newton": ours[-1][1], **ours[-1][2]}
    if theirs:
        result["ex19_s"] = statistics.median(t for t, _ in theirs)
        result["ex19_newton"] = theirs[-1][1]
        result["ratio_ours_over_ex19"] = result["ours_s"] / result["ex19_s"]
        result["samples"] = {"ours": [t for t, _, _ in ours], "ex19": [t for t, _ in theirs]}
    else:
        result["ex19"] = "not found: pass --ex19-src or --petsc-src (see the docstring)"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
