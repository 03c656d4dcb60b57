"""SIGKILL at a random window of Gray–Scott and of the reduced hybrid Couette flow (MD, Langevin).

A child process builds the example's coupling and runs it with a snapshot after every
window; the test kills it once a random window's snapshot exists, resumes in a second
child from the checkpoint folder, and compares the saved results with those of a third,
uninterrupted child bit for bit (``Dataset.equals``). (``msm run`` itself is killed in
tests/test_checkpoint_cli.py; these examples are Python scripts, not YAML.)
"""

from __future__ import annotations

import importlib.util
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from msmcore.checkpoint import snapshot_files
from msmcore.results import Result

pytest.importorskip("msm_fluid")
pytest.importorskip("msm_kinetics")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

BUILD = {
    "gray-scott": (f"""
        sys.path.insert(0, {str(EXAMPLES / "gray_scott")!r})
        import gray_scott
        coupling, scheme = gray_scott.build(n=24)
        until = 120.0
    """, 120),
    "couette": (f"""
        import importlib.util
        spec = importlib.util.spec_from_file_location("couette", {str(EXAMPLES / "couette_hybrid" / "couette.py")!r})
        couette = importlib.util.module_from_spec(spec)
        sys.modules["couette"] = couette
        spec.loader.exec_module(couette)
        tiny = couette.Setup(cells=(4, 8, 4), n_bins=16, boundary_bin=9, constraint_bins=(12, 13), n_cont=11,
                             U=1.0, until=10.0, window=0.25, equilibrate=50)
        couette.setup = lambda reduced=False: tiny
        coupling, _ = couette.build(reduced=True, seed=2)
        scheme = msm.Serial(window=tiny.window, order=["md", "continuum"])
        until = tiny.until
    """, 40),
}


def _child(case: str, folder: Path, out: Path, resume: bool) -> subprocess.Popen[str]:
    code = "import sys\nimport msmcore as msm\n" + textwrap.dedent(BUILD[case][0]) + textwrap.dedent(f"""
        res = coupling.run(until=until, scheme=scheme, quiet=True,
                           checkpoint=msm.Checkpoints(keep=2, path={str(folder)!r}),
                           resume={str(folder)!r} if {resume!r} else None)
        res.to_netcdf({str(out)!r})
    """)
    return subprocess.Popen([sys.executable, "-c", code], text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ), start_new_session=True)


def _have(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


@pytest.mark.parametrize("case", ["gray-scott", pytest.param("couette", marks=pytest.mark.skipif(
    not _have("openmm", "msm_md"), reason="needs openmm and msm_md"))])
def test_killed_at_a_random_window_and_resumed_equals_the_uninterrupted_run(tmp_path, case):
    windows = BUILD[case][1]
    full = _child(case, tmp_path / "full.ckpt", tmp_path / "full.nc", resume=False)
    kill_after = random.Random().randint(2, windows // 4)
    cut = _child(case, tmp_path / "cut.ckpt", tmp_path / "cut.nc", resume=False)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        files = snapshot_files(tmp_path / "cut.ckpt")
        if files and int(files[0].name[9:21]) >= kill_after:
            break
        assert cut.poll() is None, (kill_after, cut.communicate())
        time.sleep(0.005)
    os.killpg(cut.pid, signal.SIGKILL)
    cut.wait(timeout=30)
    assert cut.returncode == -signal.SIGKILL and not (tmp_path / "cut.nc").exists()
    done = int(snapshot_files(tmp_path / "cut.ckpt")[0].name[9:21])
    assert kill_after <= done < windows, (kill_after, done)
    resumed = _child(case, tmp_path / "cut.ckpt", tmp_path / "resumed.nc", resume=True)
    for proc in (resumed, full):
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    a, b = Result.from_netcdf(tmp_path / "full.nc"), Result.from_netcdf(tmp_path / "resumed.nc")
    assert list(a) == list(b)
    for name in a:
        assert a[name].sizes["time"] == windows + 1
        assert a[name].equals(b[name]), (case, name, kill_after, done)
