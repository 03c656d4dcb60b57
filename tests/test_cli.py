"""The `msm` command line: plugins listing, --version, user errors as one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import msmcore
from msmcore.cli import main


def run_msm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "msmcore", *args], capture_output=True, text=True,
                          env=full_env, timeout=60)


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"msmcore {msmcore.__version__}"


def test_plugins_json_lists_script_components_and_table(capsys):
    key = "clitest.thing"

    @msmcore.register_component(key, description="a thing for the CLI test")
    class Thing(msmcore.Component):
        pass

    try:
        assert main(["plugins", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        entry = next(c for c in data["components"] if c["key"] == key)
        assert entry == {"key": key, "plugin": "<script>", "distribution": None, "version": None,
                         "description": "a thing for the CLI test"}
        assert main(["plugins"]) == 0
        out = capsys.readouterr().out
        assert out.splitlines()[0].split() == ["KEY", "DISTRIBUTION", "VERSION", "DESCRIPTION"]
        assert any(line.startswith(key) and "(script)" in line for line in out.splitlines())
    finally:
        msmcore.get_registry().unregister(key)


def test_plugins_lists_the_surrogate_models(capsys, monkeypatch, make_registry):
    from msmcore import hookimpl

    class FakeML:
        @staticmethod
        @hookimpl
        def msm_register_surrogates(register):
            register("test.model", "msmcore:Component")  # by reference: never imported for a listing

    registry = make_registry()
    registry.add_plugin(FakeML(), name="fake-ml")
    monkeypatch.setattr(msmcore.cli, "get_registry", lambda: registry)
    assert main(["plugins", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["surrogates"] == [{"key": "test.model", "plugin": "fake-ml", "distribution": None, "version": None}]
    assert main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[lines.index("") + 1].split() == ["SURROGATE", "MODEL", "DISTRIBUTION", "VERSION"]
    assert lines[-1].split() == ["test.model", "(fake-ml)"]


def test_user_error_is_one_line_without_traceback(tmp_path):
    (tmp_path / "msm-optics").mkdir()
    proc = run_msm("new-plugin", "optics", "--dir", str(tmp_path))
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("msm: error: ") and "already exists" in proc.stderr
    assert "Traceback" not in proc.stderr
    debug = run_msm("--debug", "new-plugin", "optics", "--dir", str(tmp_path))
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_invalid_plugin_name_is_rejected(tmp_path):
    proc = run_msm("new-plugin", "Bad-Name", "--dir", str(tmp_path))
    assert proc.returncode == 1 and "invalid plugin name 'Bad-Name'" in proc.stderr


def test_plugins_with_autoload_disabled_runs():
    proc = run_msm("plugins", "--json", env={"MSM_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["components"] == []


# -- msm run: errors before step 1, one line always, Ctrl-C, MPI ranks ------------------------

import logging  # noqa: E402
import textwrap  # noqa: E402

from msmcore.logs import RankFilter, process_rank  # noqa: E402

STEPS: list[float] = []


class Spy(msmcore.Component):
    """Counts its steps in STEPS; raises what `fail` names at t >= 1."""

    dt = msmcore.Setting(float, default=0.5)
    fail = msmcore.Setting(str, default="", choices=("", "interrupt", "error"))
    state_attributes = ()

    def declare_ports(self):
        return [msmcore.Port.output("u", 2)]

    def step(self, dt):
        STEPS.append(self.t)
        if self.t >= 1.0 and self.fail == "interrupt":
            raise KeyboardInterrupt
        if self.t >= 1.0 and self.fail == "error":
            raise ZeroDivisionError("division by zero in the solver")


@pytest.fixture
def spy_yaml(tmp_path):
    msmcore.get_registry().register("clitest.spy", Spy, replace=True)
    STEPS.clear()

    def make(extra="", run_extra=""):
        path = tmp_path / "spy.yaml"
        path.write_text(textwrap.dedent(f"""\
            components:
              s:
                component: clitest.spy
            {extra}
            run:
              until: 2.0
            {run_extra}
            """).replace("\n\n", "\n"))
        return path

    yield make
    msmcore.get_registry().unregister("clitest.spy")


@pytest.mark.parametrize("where", ["option", "yaml"])
def test_unwritable_out_is_an_error_before_step_1(spy_yaml, tmp_path, capsys, where):
    target = tmp_path / "no-such-folder" / "r.nc"
    if where == "option":
        code = main(["run", str(spy_yaml()), "--out", str(target), "--quiet"])
    else:
        code = main(["run", str(spy_yaml(run_extra=f"  out: {target}")), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and STEPS == []  # refused before the first step
    assert err == f"msm: error: cannot write results to {target}: the folder {target.parent} does not exist; " \
                  "create it or choose another --out\n"


def test_out_that_is_a_folder_or_in_a_read_only_folder_is_refused(spy_yaml, tmp_path, capsys):
    assert main(["run", str(spy_yaml()), "--out", str(tmp_path), "--quiet"]) == 1
    assert "it is a folder" in capsys.readouterr().err and STEPS == []
    from msmcore.cli import check_writable

    assert check_writable(tmp_path / "fine.nc") == tmp_path / "fine.nc"
    assert list(tmp_path.glob(".msm-write-test-*")) == []  # the probe file is removed again


def test_ctrl_c_prints_one_line_and_exits_130(spy_yaml, capsys):
    path = spy_yaml()
    path.write_text(path.read_text().replace("component: clitest.spy", "component: clitest.spy\n    fail: interrupt"))
    code = main(["run", str(path), "--quiet"])
    err = capsys.readouterr().err
    assert code == 130
    assert err.startswith("msm: interrupted (Ctrl-C)") and err.count("\n") == 1 and "Traceback" not in err


def test_a_failing_component_is_one_line(spy_yaml, capsys):
    path = spy_yaml()
    path.write_text(path.read_text().replace("component: clitest.spy", "component: clitest.spy\n    fail: error"))
    assert main(["run", str(path), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("msm: error: ") and "ZeroDivisionError: division by zero in the solver" in err
    assert err.count("\n") == 1


def test_an_internal_error_is_one_line_suggesting_debug(spy_yaml, capsys, monkeypatch):
    import msmcore.config

    def broken(path):
        raise AttributeError("'NoneType' object has no attribute 'x'")

    monkeypatch.setattr(msmcore.config, "load_config", broken)
    assert main(["run", str(spy_yaml())]) == 1
    err = capsys.readouterr().err
    assert err.startswith("msm: internal error: AttributeError: 'NoneType' object has no attribute 'x'")
    assert "--debug" in err and err.count("\n") == 1 and "Traceback" not in err
    with pytest.raises(AttributeError):
        main(["--debug", "run", str(spy_yaml())])


def test_errors_are_printed_by_rank_0_only(spy_yaml, tmp_path, capsys, monkeypatch):
    import msmcore.cli

    bad = tmp_path / "missing.yaml"
    monkeypatch.setattr(msmcore.cli, "process_rank", lambda: 1)
    assert main(["run", str(bad)]) == 1
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(msmcore.cli, "process_rank", lambda: 0)
    assert main(["run", str(bad)]) == 1
    assert capsys.readouterr().err.startswith("msm: error: cannot read configuration")


def test_rank_comes_from_launcher_variables_without_starting_mpi(monkeypatch):
    monkeypatch.delitem(sys.modules, "mpi4py.MPI", raising=False)
    for name in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert process_rank() == 0
    monkeypatch.setenv("PMI_RANK", "3")
    assert process_rank() == 3
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "2")
    assert process_rank() == 2


def _record(level, msg="hello"):
    return logging.LogRecord("msmcore.x", level, __file__, 1, msg, None, None)


def test_rank_filter_info_from_rank_0_only_and_warnings_labelled():
    zero, one = RankFilter(0), RankFilter(1)
    assert zero.filter(_record(logging.INFO)) and not one.filter(_record(logging.INFO))
    warning = _record(logging.WARNING)
    assert one.filter(warning) and warning.rankprefix == "[rank 1] " and warning.rank == 1
    info = _record(logging.INFO)
    assert zero.filter(info) and info.rankprefix == ""
    assert RankFilter(2, everything=True).filter(_record(logging.DEBUG))


def test_cli_logging_goes_through_the_rank_filter(monkeypatch, capsys):
    import msmcore.cli

    monkeypatch.setattr(msmcore.cli, "process_rank", lambda: 1)

    def noisy(args):
        logging.getLogger("msmcore.test").info("only rank 0 says this")
        logging.getLogger("msmcore.test").warning("every rank says this")
        return 0

    monkeypatch.setattr(msmcore.cli, "_cmd_plugins", noisy)
    assert main(["plugins"]) == 0
    err = capsys.readouterr().err
    assert err == "msm: [rank 1] WARNING: msmcore.test: every rank says this\n"
    handlers = logging.getLogger().handlers
    assert not any(isinstance(f, RankFilter) for h in handlers for f in h.filters)  # removed afterwards


def test_msm_run_in_a_subprocess_never_shows_a_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("components:\n  a:\n    component: fluid.diffusion\n    shape: [1e11]\n    D: 1\n    dt: 1\n"
                    "    method: implicit\nrun: {until: .inf}\n")
    proc = run_msm("run", str(path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"msm: error: {path}:")


@pytest.mark.slow
def test_under_mpiexec_the_error_line_is_printed_once(tmp_path):
    import shutil

    mpiexec = shutil.which("mpiexec")
    assert mpiexec, "mpiexec (OpenMPI) is part of the set-up"
    path = tmp_path / "bad.yaml"
    path.write_text("components:\n  a:\n    component: fluid.diffusion\n    shape: [4]\n    D: 1\n    dt: 0.1\n"
                    "run: {until: yes}\n")
    env = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    proc = subprocess.run([mpiexec, "--oversubscribe", "-n", "2", sys.executable, "-m", "msmcore", "run", str(path)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.startswith("msm: ")]
    assert lines == [f"msm: error: {path}:7: run.until must be a number (finite, in the coupling's time units), "
                     "got True (YAML reads yes/no/on/off as true/false)"], proc.stderr
    assert "Traceback" not in proc.stderr
