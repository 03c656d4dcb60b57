"""Run the MUSCLE3 reaction–diffusion baseline several times and report medians.

Each repetition starts ``rd_muscle3.py --out <tmp>/final.npy --json`` as a fresh
process (with the interpreter that runs this script, normally the MUSCLE3 venv) and
records:

* ``wall_s`` — whole-process wall time (interpreter start-up, imports, MUSCLE3 manager
  and component processes, comparison with the numpy reference), measured here around
  ``subprocess.run``;
* ``coupled_run_s`` and ``macro_loop_s`` — as reported by ``rd_muscle3.py``.

Usage::

    benchmarks/.venv-muscle3/bin/python benchmarks/muscle3_rd/run_baseline.py --repeat 3

prints one JSON line with every run and the medians, and exits 1 if any run failed or
missed the 1e-12 relative tolerance against ``numpy_reference``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "rd_muscle3.py"


def run_once(python: str, workdir: Path) -> dict[str, Any]:
    """Run ``rd_muscle3.py`` once in a fresh process and return its measurements.

    Parameters
    ----------
    python : str
        Interpreter to run the script with.
    workdir : pathlib.Path
        Directory for the output file.

    Returns
    -------
    dict
        The script's JSON report plus ``wall_s`` and ``returncode``.
    """
    out = workdir / "final.npy"
    start = time.perf_counter()
    proc = subprocess.run(
        [python, str(SCRIPT), "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    wall_s = time.perf_counter() - start
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        raise RuntimeError(
            f"rd_muscle3.py failed with exit code {proc.returncode}; stderr:\n"
            f"{proc.stderr[-4000:]}"
        )
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    report["wall_s"] = wall_s
    report["returncode"] = proc.returncode
    return report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="number of runs (3)")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter with muscle3 installed (default: this one)",
    )
    args = parser.parse_args(argv)

    runs = []
    with tempfile.TemporaryDirectory(prefix="muscle3_rd_bench_") as tmp:
        for _ in range(args.repeat):
            runs.append(run_once(args.python, Path(tmp)))

    summary = {
        "median_wall_s": statistics.median(r["wall_s"] for r in runs),
        "median_coupled_run_s": statistics.median(r["coupled_run_s"] for r in runs),
        "median_macro_loop_s": statistics.median(r["macro_loop_s"] for r in runs),
        "max_rel_diff": max(r["max_rel_diff"] for r in runs),
        "repeat": args.repeat,
        "muscle3_version": runs[0]["muscle3_version"],
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "load_avg_1m_at_end": os.getloadavg()[0],
        "runs": runs,
    }
    print(json.dumps(summary))
    return 0 if all(r["returncode"] == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
