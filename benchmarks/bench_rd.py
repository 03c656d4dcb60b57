"""The reaction-diffusion coupling: msmcore against MUSCLE3 0.11 on the same problem.

msmcore: the coupled run (build + run, after imports) repeated in one process,
median; and the whole process (``examples/reaction_diffusion/rd.py``) started
fresh several times, median wall time. MUSCLE3: ``muscle3_rd/run_baseline.py``
in its own virtual environment (``benchmarks/.venv-muscle3``), same problem, same
check against the numpy reference. Prints one JSON line.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "reaction_diffusion"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402


def msmcore_coupled(repeat: int) -> dict[str, float]:
    """Median time of build + run of the coupling, imports excluded."""
    import rd  # the example script: build() and the reference check

    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        coupling, scheme = rd.build()
        result = coupling.run(until=rd.T_END, scheme=scheme, quiet=True)
        samples.append(time.perf_counter() - t0)
        diff = rd.max_relative_difference(result)
        assert diff < 1e-12, diff
    macro = result.timings["macro"]
    micro = result.timings["micro"]
    return {"coupled_run_s": statistics.median(samples), "max_rel_diff": diff,
            "exchange_s": macro["exchange_s"] + micro["exchange_s"],
            "compute_s": macro["compute_s"] + micro["compute_s"]}


def wall(cmd: list[str], repeat: int) -> float:
    """Median whole-process wall time of ``cmd``."""
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    ours = msmcore_coupled(repeat=7)
    ours["wall_s"] = wall([sys.executable, "examples/reaction_diffusion/rd.py"], repeat=3)
    peer_python = ROOT / "benchmarks" / ".venv-muscle3" / "bin" / "python"
    proc = subprocess.run([str(peer_python), "benchmarks/muscle3_rd/run_baseline.py", "--repeat", "3"],
                          check=True, capture_output=True, text=True, cwd=ROOT)
    peer = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps({"machine": machine(), "msmcore": ours, "muscle3": peer}))


if __name__ == "__main__":
    main()
