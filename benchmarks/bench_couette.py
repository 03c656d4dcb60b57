"""Hybrid MD-continuum Couette flow: time split into MD, continuum and coupling overhead.

Runs examples/couette_hybrid at full size once (about 80 s on 2 cores; MD dominates,
so a single run is representative) and prints one JSON line with the split from
``couette.timing_split``: overhead = wall - (compute + initialise of both components).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "couette_hybrid"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import couette  # noqa: E402
from common import machine  # noqa: E402


def main() -> None:
    res, _, wall = couette.run(reduced="--reduced" in sys.argv)
    print(json.dumps({"machine": machine(), **couette.timing_split(res, wall)}))


if __name__ == "__main__":
    main()
