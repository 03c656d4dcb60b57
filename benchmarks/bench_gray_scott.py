"""Coupled Gray–Scott step rate (examples/gray_scott) on 128 x 128 and 512 x 512 grids.

One step = the network reacting in every cell, two implicit diffusion solves, four
exchanges. The rate excludes set-up (components' initialize); median of repeated runs.
Prints one JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "gray_scott"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import gray_scott  # noqa: E402
from common import machine  # noqa: E402


def rate(n: int, steps: int, repeat: int) -> dict[str, float]:
    rates, shares = [], {}
    for _ in range(repeat):
        coupling, scheme = gray_scott.build(n)
        res = coupling.run(until=float(steps), scheme=scheme, sample_every=float(steps), quiet=True)
        setup = sum(t["initialize_s"] for t in res.timings.values())
        rates.append(steps / (res.wall_s - setup))
        shares = {name: (t["compute_s"] + t["exchange_s"]) / steps * 1e3 for name, t in res.timings.items()}
    return {"cells": n * n, "steps_per_s": statistics.median(rates), "ms_per_step_by_component": shares}


def main() -> None:
    print(json.dumps({"machine": machine(), "128": rate(128, 300, 3), "512": rate(512, 30, 3)}))


if __name__ == "__main__":
    main()
