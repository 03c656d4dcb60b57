"""YAML may name a Python function that builds the coupling: `build: {python: setup.py:build, args: {...}}`."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest
from checkpoint_parts import assert_same
from user_code_sources import LOGISTIC_SOURCE

import msmcore as msm
from msmcore.cli import main
from msmcore.config import load_config

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

SETUP = '''\
import msmcore as msm


''' + LOGISTIC_SOURCE + '''

def build(r=1.0, window=0.5):
    c = msm.Coupling()
    c.add("growth", Logistic, r=r, dt=0.1)
    return c, msm.Serial(window=window)


def coupling_only(r=1.0):
    c = msm.Coupling()
    c.add("growth", Logistic, r=r, dt=0.1)
    return c


def returns_a_number():
    return 42


def fails(r=1.0):
    c = msm.Coupling()
    raise ValueError("no coupling today")


def bad_setting():
    c = msm.Coupling()
    c.add("growth", Logistic, r=-1.0)
    return c


NOT_A_FUNCTION = 3
'''



def line_of(text: str) -> int:
    """The line of setup.py that holds ``text``."""
    return next(i for i, line in enumerate(SETUP.splitlines(), 1) if text in line)


CONFIG = """\
build:
  python: setup.py:build
  args: {r: 2.0, window: 0.25}
run:
  until: 1.0
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def python_run(folder: Path, until: float = 1.0, r: float = 2.0, window: float = 0.25) -> msm.Result:
    """The same coupling built and run in Python (setup.py's ``build``, imported on its own)."""
    spec = importlib.util.spec_from_file_location("setup_by_hand", folder / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    coupling, scheme = module.build(r=r, window=window)
    return coupling.run(until=until, scheme=scheme, quiet=True)


def test_the_built_coupling_runs_with_the_files_run_block(tmp_path):
    write(tmp_path, "setup.py", SETUP)
    cfg = load_config(write(tmp_path, "c.yaml", CONFIG))
    assert isinstance(cfg.scheme, msm.Serial) and cfg.scheme.window == 0.25  # the function's scheme
    res = cfg.run(quiet=True)
    assert res["growth"].sizes["time"] == 5
    assert_same(res, python_run(tmp_path))


def test_a_coupling_alone_takes_the_scheme_from_the_file_or_serial(tmp_path):
    write(tmp_path, "setup.py", SETUP)
    text = CONFIG.replace("setup.py:build", "setup.py:coupling_only").replace(", window: 0.25", "")
    assert isinstance(load_config(write(tmp_path, "c.yaml", text)).scheme, msm.Serial)
    cfg = load_config(write(tmp_path, "d.yaml", text + "scheme: {type: parallel, window: 0.5}\n"))
    assert isinstance(cfg.scheme, msm.Parallel) and cfg.scheme.window == 0.5
    assert_same(cfg.run(quiet=True), python_run(tmp_path, window=0.5))


def test_gray_scott_built_from_yaml_equals_the_coupling_built_in_python(tmp_path):
    pytest.importorskip("msm_fluid")
    pytest.importorskip("msm_kinetics")
    script = EXAMPLES / "gray_scott" / "gray_scott.py"
    path = write(tmp_path, "gs.yaml", f"build: {{python: '{script}:build', args: {{n: 16, F: 0.035}}}}\n"
                                      "run: {until: 6.0, sample_every: 2.0}\n")
    from_yaml = load_config(path).run(quiet=True)
    sys.path.insert(0, str(script.parent))
    try:
        import gray_scott
    finally:
        sys.path.remove(str(script.parent))
    coupling, scheme = gray_scott.build(n=16, F=0.035)
    assert_same(from_yaml, coupling.run(until=6.0, scheme=scheme, sample_every=2.0, quiet=True))


def test_msm_run_with_checkpoints_and_resume(tmp_path, capsys):
    write(tmp_path, "setup.py", SETUP)
    path = write(tmp_path, "c.yaml", CONFIG + "checkpoints: {every: 0.5, path: run.ckpt}\n")
    assert main(["run", str(path), "--out", str(tmp_path / "a.nc"), "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "run.ckpt").iterdir()) == ["snapshot-000000000002.h5",
                                                                          "snapshot-000000000004.h5"]
    (tmp_path / "run.ckpt" / "snapshot-000000000004.h5").unlink()
    assert main(["run", str(path), "--resume", str(tmp_path / "run.ckpt"), "--out", str(tmp_path / "b.nc"),
                 "--quiet"]) == 0
    assert_same(msm.Result.from_netcdf(tmp_path / "a.nc"), msm.Result.from_netcdf(tmp_path / "b.nc"))


def test_a_module_function(tmp_path, monkeypatch):
    write(tmp_path / "pkg_userbuild", "__init__.py", "")
    write(tmp_path / "pkg_userbuild", "setups.py", SETUP)
    write(tmp_path / "pkg_userbuild", "setup.py", SETUP)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        cfg = load_config(write(tmp_path, "c.yaml", CONFIG.replace("setup.py:build", "pkg_userbuild.setups:build")))
        assert_same(cfg.run(quiet=True), python_run(tmp_path / "pkg_userbuild"))
    finally:
        for name in [m for m in sys.modules if m.startswith("pkg_userbuild")]:
            del sys.modules[name]


@pytest.mark.parametrize(("text", "files", "message"), [
    (CONFIG.replace("setup.py", "nosuch.py"), {},
     r"c.yaml:2: build: python file .*nosuch.py does not exist"),
    (CONFIG.replace(":build", ":biuld"), {"setup.py": SETUP},
     r"c.yaml:2: build: .*setup.py has no function 'biuld'; the functions it defines: bad_setting, build, "
     r"coupling_only, fails, returns_a_number"),
    (CONFIG.replace(":build", ":NOT_A_FUNCTION"), {"setup.py": SETUP},
     r"c.yaml:2: build: .*setup.py:NOT_A_FUNCTION is a int, not a function"),
    (CONFIG.replace("setup.py", "broken.py"), {"broken.py": "import msmcore\n\nraise RuntimeError('bad setup')\n"},
     r"c.yaml:2: build: importing .*broken.py:3 failed: RuntimeError: bad setup"),
    (CONFIG.replace("setup.py", "needs.py"), {"needs.py": "import no_such_module_for_msm\n"},
     r"c.yaml:2: build: importing .*needs.py:1 failed: ModuleNotFoundError"),
    (CONFIG.replace("setup.py:build", "no_such_pkg_msm.setups:build"), {},
     r"c.yaml:2: build: no module named 'no_such_pkg_msm'"),
    (CONFIG.replace("setup.py:build", "setup.py"), {},
     r"c.yaml:2: build: python: 'setup.py' must look like 'mymodels.py:function'"),
    (CONFIG.replace(":build", ":returns_a_number").replace("{r: 2.0, window: 0.25}", "{}"), {"setup.py": SETUP},
     r"c.yaml:2: build: setup.py:returns_a_number must return \(coupling, scheme\) or a Coupling, got int"),
    (CONFIG.replace("window: 0.25", "windw: 0.25"), {"setup.py": SETUP},
     r"c.yaml:3: build.args: setup.py:build cannot be called with \['r', 'windw'\]: .*unexpected keyword "
     r"argument 'windw'"),
    (CONFIG.replace("{r: 2.0, window: 0.25}", "[2.0]"), {"setup.py": SETUP},
     r"c.yaml:3: build.args must map argument names to values, got \[2.0\]"),
    (CONFIG.replace(":build", ":fails").replace(", window: 0.25", ""), {"setup.py": SETUP},
     rf"c.yaml:2: build: calling setup.py:fails failed at .*setup.py:{line_of('no coupling')}: ValueError: "
     "no coupling today"),
    (CONFIG.replace(":build", ":bad_setting").replace("{r: 2.0, window: 0.25}", "{}"), {"setup.py": SETUP},
     rf"c.yaml:2: build: calling setup.py:bad_setting failed at .*setup.py:{line_of('r=-1.0')}: .*setting 'r'"),
    ("build: setup.py:build\nrun: {until: 1.0}\n", {"setup.py": SETUP},
     r"c.yaml:1: 'build' must be \{python: mysetup.py:function, args: \{...\}\} \(args optional\)"),
    (CONFIG.replace("  args:", "  argz:"), {"setup.py": SETUP}, r"c.yaml:1: 'build' must be \{python:"),
    (CONFIG + "components:\n  a: {component: x}\nconnections: []\n", {"setup.py": SETUP},
     r"c.yaml:1: 'build' cannot be combined with 'components' and 'connections' \(line 6\)"),
    (CONFIG + "scheme: {type: serial, window: 0.5}\n", {"setup.py": SETUP},
     r"c.yaml:6: 'scheme' is given, but setup.py:build returns a scheme too"),
    ("run: {until: 1.0}\n", {}, r"c.yaml:1: top level is missing the key 'components'"),
])
def test_errors_name_the_yaml_line(tmp_path, text, files, message):
    for name, source in files.items():
        write(tmp_path, name, source)
    path = write(tmp_path, "c.yaml", text)
    with pytest.raises(msm.ConfigurationError, match=message):
        load_config(path)


def test_errors_reach_msm_run_as_one_line(tmp_path, capsys):
    path = write(tmp_path, "c.yaml", CONFIG.replace("setup.py", "nosuch.py"))
    assert main(["run", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("msm: error: ") and "c.yaml:2: build: python file" in err and len(err.splitlines()) == 1
