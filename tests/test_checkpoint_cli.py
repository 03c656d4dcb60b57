"""`msm run` killed with SIGKILL once a snapshot exists, resumed with `--resume`, equals an uninterrupted run.

Also the YAML ``checkpoints:`` block: its keys, and errors naming file and line.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import msmcore as msm
from msmcore.checkpoint import snapshot_files
from msmcore.config import load_config
from msmcore.results import Result
from msmcore.stream import samples_in

pytest.importorskip("msm_fluid")
pytest.importorskip("msm_kinetics")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
RD_YAML = EXAMPLES / "reaction_diffusion" / "rd.yaml"
# (file, its until, its window, windows to run, the latest window the kill may wait for). Every window
# writes a snapshot (~0.1 s serial, ~0.3 s per window under mpiexec -n 2), so the runs are short: the kill
# lands after window 3 at the earliest and at least 10 windows before the end. Heat's latest kill comes
# after the IQN-ILS history is full (reuse: 8 windows), so a snapshot with a full, trimmed history is
# resumed too; reaction-diffusion keeps no history (any window >= 3 tests the same).
CASES = {"reaction-diffusion": (RD_YAML, "1.234568e-4", 2.469136e-6, 16, 6),
         "partitioned heat, IQN-ILS": (EXAMPLES / "partitioned_heat" / "heat.yaml", "1.0", 0.1, 20, 10)}


#: Under mpiexec, where a case's components go (YAML ``ranks:``); the others are on every rank.
PLACEMENT = {"partitioned heat, IQN-ILS": {"left": [0], "right": [1]}}


def _yaml(tmp_path: Path, checkpoints: str = "", case: str = "reaction-diffusion", ranks: int = 1) -> Path:
    source, until, window, windows, _ = CASES[case]
    text = source.read_text().replace(f"until: {until}", f"until: {windows * window!r}")
    for name, placed in PLACEMENT.get(case, {}).items() if ranks > 1 else ():
        text = re.sub(rf"^(  {name}:.*)$", rf"\1\n    ranks: {placed}", text, count=1, flags=re.MULTILINE)
    path = tmp_path / source.name
    path.write_text(text + checkpoints)
    return path


def _msm(*args: str, cwd: Path, ranks: int = 1) -> subprocess.Popen[str]:
    """``msm run ... --quiet`` in its own process group (under ``mpiexec -n ranks`` when ranks > 1)."""
    env = dict(os.environ)
    command = [sys.executable, "-m", "msmcore", "run", *args, "--quiet"]
    if ranks > 1:
        mpiexec = shutil.which("mpiexec")
        assert mpiexec, "mpiexec (OpenMPI) is part of the set-up"
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        command = [mpiexec, "--oversubscribe", "-n", str(ranks), *command]
    return subprocess.Popen(command, cwd=cwd, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc (mpiexec starts each rank in a process group of its own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])  # "pid (comm) state ppid ..."
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_all(proc: subprocess.Popen[str]) -> None:
    """SIGKILL ``proc``'s process group and every process below it, and wait until all are gone.

    Killing mpiexec's group alone leaves the ranks running (each is a group of its own): they would go on
    writing snapshots and the results file while the test reads them and the resumed run starts.
    """
    below = _descendants(proc.pid)
    for pid in below:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    for pid in below:  # reaped by init once mpiexec is gone
        while _alive(pid):
            assert time.monotonic() < deadline, f"process {pid} of the killed run is still alive"
            time.sleep(0.01)


def _alive(pid: int) -> bool:
    """``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _newest_complete(folder: Path, ranks: int) -> int:
    """Windows done by the newest complete snapshot in ``folder`` (-1: none yet).

    Under mpiexec every rank creates the snapshot's folder before rank 0 has flushed the results
    file and written the manifest: a folder without its manifest is one the kill interrupted.
    """
    for path in snapshot_files(folder, parallel=ranks > 1):
        if ranks == 1 or (path / "manifest.json").exists():
            return int(path.name[9:21])
    return -1


@pytest.mark.parametrize(("case", "ranks"), [(case, 1) for case in CASES]
                         + [pytest.param(case, 2, marks=pytest.mark.slow) for case in CASES])
def test_msm_run_killed_and_resumed_equals_the_uninterrupted_run(tmp_path, case, ranks):
    _, _, window, windows, last_kill = CASES[case]
    plain = tmp_path / "plain"
    plain.mkdir()
    full = _msm(str(_yaml(plain, case=case)), "--out", "full.nc", cwd=plain)  # serial: the reference
    cut = tmp_path / "cut"
    cut.mkdir()
    yaml = _yaml(cut, f"checkpoints:\n  every: {window!r}\n  keep: 2\n  path: rd.ckpt\n", case, ranks)
    kill_after = random.Random().randint(3, last_kill)  # a random window (printed on failure)
    proc = _msm(str(yaml), "--out", "cut.nc", cwd=cut, ranks=ranks)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if _newest_complete(cut / "rd.ckpt", ranks) >= kill_after:
            break
        assert proc.poll() is None, (kill_after, proc.communicate())
        time.sleep(0.005)
    _kill_all(proc)  # every process of the run at once, as when a node dies
    assert proc.returncode == -signal.SIGKILL
    done = _newest_complete(cut / "rd.ckpt", ranks)
    assert kill_after <= done < windows, (kill_after, done)
    # The results file was flushed at every snapshot: it holds at least the samples up to the newest one —
    # unless the kill fell inside a later flush (documented), when the resume writes it anew from the snapshot.
    try:
        kept = samples_in(cut / "cut.nc")[0]
    except OSError:
        kept = None
    assert kept is None or kept >= done + 1, (kept, done)
    resumed = _msm(str(yaml), "--resume", "rd.ckpt", "--out", "cut.nc", cwd=cut, ranks=ranks)  # the same file
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    out, err = full.communicate(timeout=300)
    assert full.returncode == 0, err
    a, b = Result.from_netcdf(plain / "full.nc"), Result.from_netcdf(cut / "cut.nc")
    assert list(a) == list(b) and len(a) == 2
    if "iterations" in a.info:  # implicit: the same iterations in every window, before and after the kill
        assert a.info["iterations"] == b.info["iterations"]
    for name in a:
        assert a[name].sizes["time"] == windows + 1
        assert a[name].equals(b[name]), (name, kill_after, done)
        for var in a[name].data_vars:
            assert np.array_equal(a[name][var].values, b[name][var].values), (name, var)


def test_yaml_checkpoints_block(tmp_path):
    path = _yaml(tmp_path, "checkpoints:\n  every: 1.0e-5\n  wallclock: 600\n  keep: 3\n  path: out/ck\n")
    ckpt = load_config(path).run_options["checkpoint"]
    assert isinstance(ckpt, msm.Checkpoints)
    assert (ckpt.every, ckpt.wallclock, ckpt.keep, ckpt.path) == (1.0e-5, 600.0, 3, tmp_path / "out" / "ck")
    n = len(RD_YAML.read_text().splitlines())
    for block, line, pattern in (
            ("checkpoints:\n  every: 1.0e-5\n  keep: 0\n", n + 3, r"keep=\.\.\.\) must be a whole number"),
            ("checkpoints:\n  evry: 1.0\n", n + 2, "unknown key 'evry' in checkpoints"),
            ("checkpoints: 5\n", n + 1, "'checkpoints' must be a mapping"),
            ("checkpoints:\n  path: ''\n", n + 2, "checkpoints.path must be a folder name")):
        bad = _yaml(tmp_path, block)
        with pytest.raises(msm.ConfigurationError, match=rf"{bad}:{line}: .*{pattern}"):
            load_config(bad)
