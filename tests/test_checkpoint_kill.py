"""`msm run` SIGKILLed at a random window of Gray–Scott and of the reduced hybrid Couette flow (MD, Langevin).

Both couplings are built in Python; their YAML files name the function with ``build:``
(examples/gray_scott/gray_scott.py ``build``, tests/checkpoint_builds.py ``tiny_couette``)
and add a ``checkpoints:`` block (a snapshot after every window). The test kills the
process group of ``msm run FILE.yaml --out cut.nc`` once a random window's snapshot
exists, resumes with ``msm run FILE.yaml --resume FOLDER --out cut.nc`` (the same results
file: it is continued after the snapshot's samples) and compares the file bit for bit
with that of an uninterrupted ``msm run`` with the same snapshots (``md.lj`` rebuilds its
OpenMM context when it saves: docs/coupling.md, "Checkpoints and restart").
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from msmcore.checkpoint import snapshot_files
from msmcore.results import Result

pytest.importorskip("msm_fluid")
pytest.importorskip("msm_kinetics")

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[0] / "examples"

# case: (its build: block, its until, windows). Every window writes a snapshot, so the runs are short;
# the kill waits for a random window in 2..windows // 4 (at least 12 windows before the end).
CASES = {
    "gray-scott": ({"python": f"{EXAMPLES / 'gray_scott' / 'gray_scott.py'}:build", "args": {"n": 24}}, 24.0, 24),
    "couette": ({"python": f"{HERE / 'checkpoint_builds.py'}:tiny_couette", "args": {"seed": 2}}, 4.0, 16),
}


def _yaml(folder: Path, case: str) -> Path:
    """The case's YAML file in ``folder``, with a snapshot after every window into ``folder/run.ckpt``."""
    build, until, _ = CASES[case]
    path = folder / f"{case}.yaml"
    # JSON is YAML: the paths are quoted whatever they hold.
    path.write_text(f"build: {json.dumps(build)}\nrun:\n  until: {until!r}\n"
                    "checkpoints:\n  keep: 2\n  path: run.ckpt\n")
    return path


def _msm(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """``msm run ... --quiet`` in its own process group."""
    return subprocess.Popen([sys.executable, "-m", "msmcore", "run", *args, "--quiet"], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ),
                            start_new_session=True)


def _have(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


@pytest.mark.slow  # three msm processes each, 8-12 s
@pytest.mark.parametrize("case", ["gray-scott", pytest.param("couette", marks=pytest.mark.skipif(
    not _have("openmm", "msm_md"), reason="needs openmm and msm_md"))])
def test_msm_run_killed_at_a_random_window_and_resumed_equals_the_uninterrupted_run(tmp_path, case):
    windows = CASES[case][2]
    plain, cut = tmp_path / "plain", tmp_path / "cut"
    plain.mkdir()
    cut.mkdir()
    full = _msm(str(_yaml(plain, case)), "--out", "full.nc", cwd=plain)
    yaml = _yaml(cut, case)
    kill_after = random.Random().randint(2, windows // 4)  # a random window (printed on failure)
    proc = _msm(str(yaml), "--out", "cut.nc", cwd=cut)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        files = snapshot_files(cut / "run.ckpt")
        if files and int(files[0].name[9:21]) >= kill_after:
            break
        assert proc.poll() is None, (kill_after, proc.communicate())
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole process group, as when a node dies
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    done = int(snapshot_files(cut / "run.ckpt")[0].name[9:21])
    assert kill_after <= done < windows, (kill_after, done)
    resumed = _msm(str(yaml), "--resume", "run.ckpt", "--out", "cut.nc", cwd=cut)  # the same results file
    for proc in (resumed, full):
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    a, b = Result.from_netcdf(plain / "full.nc"), Result.from_netcdf(cut / "cut.nc")
    assert list(a) == list(b)
    for name in a:
        assert a[name].sizes["time"] == windows + 1
        assert a[name].equals(b[name]), (case, name, kill_after, done)
        for var in a[name].data_vars:
            assert np.array_equal(a[name][var].values, b[name][var].values), (case, name, var, kill_after, done)
