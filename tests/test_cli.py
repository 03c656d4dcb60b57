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
