"""`msm new-plugin` end to end: scaffold, `pip install`, discovery, the plugin's own test."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from msmcore.cli import main as cli_main
from msmcore.scaffold import new_plugin, template_dir

NAME = "e2e_scaffold"
DIST = "msm-e2e-scaffold"


def test_template_is_found_and_complete():
    root = template_dir()
    for rel in ("pyproject.toml", "README.md", "src/msm_template/plugin.py",
                "src/msm_template/decay.py", "tests/test_decay.py"):
        assert (root / rel).is_file(), rel
    assert '[project.entry-points."msmcore.plugins"]' in (root / "pyproject.toml").read_text()


def test_names_are_substituted(tmp_path):
    target = new_plugin("optics", tmp_path)
    assert target == tmp_path / "msm-optics"
    py = (target / "pyproject.toml").read_text()
    assert 'name = "msm-optics"' in py and 'optics = "msm_optics.plugin"' in py
    assert (target / "src/msm_optics/plugin.py").read_text().count('"optics.decay"') == 1
    texts = "".join(p.read_text() for p in target.rglob("*") if p.is_file())
    assert "msm_template" not in texts and "msm-template" not in texts and "template.decay" not in texts


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_new_plugin_installs_and_is_discovered(tmp_path):
    # `msm new-plugin` through the command's own entry (in this process: the subprocesses below are the
    # ones that need a fresh interpreter; test_cli_refuses_an_installed_name_in_one_line runs it as a process).
    assert cli_main(["new-plugin", NAME, "--dir", str(tmp_path)]) == 0
    target = tmp_path / DIST
    assert target.is_dir()
    # Installed for real, but into a folder of its own on PYTHONPATH rather than the shared
    # environment: tests running at the same time (pytest-xdist) never see a half-installed plugin.
    site = tmp_path / "site"
    installed = _pip("install", "-q", "--no-build-isolation", "--no-deps", "--target", str(site), str(target))
    assert installed.returncode == 0, installed.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSM_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH", "")) if p)
    listed = subprocess.run([sys.executable, "-m", "msmcore", "plugins", "--json"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert listed.returncode == 0, listed.stderr
    comps = {c["key"]: c for c in json.loads(listed.stdout)["components"]}
    assert comps[f"{NAME}.decay"]["distribution"] == DIST
    assert comps[f"{NAME}.decay"]["version"] == "0.1.0"
    assert comps[f"{NAME}.decay"]["description"].startswith("Exponential decay")
    # The allow-list switch excludes it again, in a really installed setting.
    only_none = subprocess.run([sys.executable, "-m", "msmcore", "plugins", "--json"],
                               capture_output=True, text=True, timeout=60,
                               env={**env, "MSM_LOAD_PLUGINS": "nothing-here"})
    assert f"{NAME}.decay" not in only_none.stdout
    # The generated plugin's own validation test passes.
    tested = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             str(target / "tests")], capture_output=True, text=True, timeout=120,
                            cwd=target, env=env)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    template_tests = (template_dir() / "tests" / "test_decay.py").read_text(encoding="utf-8")
    assert f"{template_tests.count(chr(10) + 'def test_')} passed" in tested.stdout  # every template test ran


@pytest.mark.parametrize("name", ["fluid", "msm-fluid", "kinetics"])
def test_installed_names_are_refused_even_with_force(tmp_path, name):
    from msmcore.errors import ConfigurationError

    family = name.removeprefix("msm-")
    for force in (False, True):
        with pytest.raises(ConfigurationError, match=rf"plugin name '{family}' is taken: the distribution "
                                                     rf"msm-{family} .* is installed"):
            new_plugin(name, tmp_path, force=force)
    assert not (tmp_path / f"msm-{family}").exists()


def test_package_and_entry_point_uses_are_found(monkeypatch, tmp_path):
    from msmcore.scaffold import installed_uses

    (tmp_path / "msm_shadowpkg").mkdir()
    (tmp_path / "msm_shadowpkg" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    uses = installed_uses("shadowpkg")
    assert len(uses) == 1 and uses[0].startswith("the package msm_shadowpkg is importable")
    assert installed_uses("fluid")[-1].startswith("msm-fluid provides the component family 'fluid'")
    assert installed_uses("surely_unused_name") == []


def test_cli_refuses_an_installed_name_in_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "msmcore", "new-plugin", "fluid", "--dir", str(tmp_path), "--force"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("msm: error: plugin name 'fluid' is taken")
    assert not (tmp_path / "msm-fluid").exists()
