"""YAML may name a component class in the user's own file: `component: {python: mymodels.py:Logistic}`."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
from user_code_sources import LOGISTIC_SOURCE

import msmcore as msm
from msmcore.cli import main
from msmcore.config import load_config

MODELS = '''\
import numpy as np
import msmcore as msm


''' + LOGISTIC_SOURCE + '''

class NotOne:
    pass
'''

CONFIG = """\
components:
  growth:
    component: {python: mymodels.py:Logistic}
    r: 2.0
    dt: 0.1
run:
  until: 1.0
"""


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def expected(r=2.0, dt=0.1, steps=10):
    u = 0.1
    for _ in range(steps):
        u += dt * r * u * (1.0 - u)
    return u


def test_a_class_in_a_file_next_to_the_yaml_runs(tmp_path, monkeypatch):
    write(tmp_path / "case", "mymodels.py", MODELS)
    path = write(tmp_path / "case", "c.yaml", CONFIG)
    monkeypatch.chdir(tmp_path)  # the file is found relative to the YAML, not the current folder
    cfg = load_config(path)
    res = cfg.run(quiet=True)
    assert type(cfg.coupling.components["growth"]).__name__ == "Logistic"
    np.testing.assert_allclose(res["growth"]["u_out"].values[-1], expected(), rtol=1e-14)
    # A second configuration naming the same file reuses the module (no second import).
    again = load_config(path)
    assert type(again.coupling.components["growth"]) is type(cfg.coupling.components["growth"])


def test_msm_run_with_a_file_component(tmp_path, capsys):
    write(tmp_path, "mymodels.py", MODELS)
    path = write(tmp_path, "c.yaml", CONFIG.replace("  until: 1.0", "  until: 1.0\n  out: r.nc"))
    assert main(["run", str(path), "--quiet"]) == 0
    back = msm.Result.from_netcdf(tmp_path / "r.nc")
    np.testing.assert_allclose(back["growth"]["u_out"].values[-1], expected(), rtol=1e-14)


def test_an_importable_module_and_class(tmp_path, monkeypatch):
    write(tmp_path / "pkg_usercomp", "__init__.py", "")
    write(tmp_path / "pkg_usercomp", "models.py", MODELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    path = write(tmp_path, "c.yaml", CONFIG.replace("mymodels.py:Logistic", "pkg_usercomp.models:Logistic"))
    try:
        res = load_config(path).run(quiet=True)
        np.testing.assert_allclose(res["growth"]["u_out"].values[-1], expected(), rtol=1e-14)
    finally:
        for name in [m for m in sys.modules if m.startswith("pkg_usercomp")]:
            del sys.modules[name]


@pytest.mark.parametrize(("ref", "files", "message"), [
    ("nosuch.py:Logistic", {}, r"c.yaml:3: components.growth.component: python file .*nosuch.py does not exist"),
    ("mymodels.py:Logistik", {"mymodels.py": MODELS},
     r"c.yaml:3: components.growth.component: .*mymodels.py has no class 'Logistik'; the Component subclasses it "
     r"defines: Logistic"),
    ("mymodels.py:NotOne", {"mymodels.py": MODELS}, r"c.yaml:3: .*mymodels.py:NotOne is a class but not a subclass "
                                                    r"of msmcore.Component"),
    ("mymodels.py:np", {"mymodels.py": MODELS}, r"c.yaml:3: .*mymodels.py:np is a module but not a subclass"),
    ("broken.py:X", {"broken.py": "import msmcore\n\nx = 1\nraise RuntimeError('bad model file')\n"},
     r"c.yaml:3: components.growth.component: importing .*broken.py:4 failed: RuntimeError: bad model file"),
    ("syntax.py:X", {"syntax.py": "class X(:\n    pass\n"},
     r"c.yaml:3: .*importing .*syntax.py:1 failed: SyntaxError"),
    ("needs.py:X", {"needs.py": "import no_such_module_for_msm\n"},
     r"c.yaml:3: .*importing .*needs.py:1 failed: ModuleNotFoundError: No module named 'no_such_module_for_msm'"),
    ("no_such_pkg_msm.models:X", {}, r"c.yaml:3: .*no module named 'no_such_pkg_msm'"),
    ("mymodels.py", {}, r"c.yaml:3: .*must look like 'mymodels.py:ClassName'"),
    ("mymodels.py:1abc", {}, r"c.yaml:3: .*must look like"),
])
def test_errors_name_the_yaml_line_and_the_python_file(tmp_path, ref, files, message):
    for name, text in files.items():
        write(tmp_path, name, text)
    path = write(tmp_path, "c.yaml", CONFIG.replace("mymodels.py:Logistic", ref))
    with pytest.raises(msm.ConfigurationError, match=message):
        load_config(path)


def test_other_python_entry_forms_are_refused(tmp_path):
    path = write(tmp_path, "c.yaml", CONFIG.replace("{python: mymodels.py:Logistic}",
                                                    "{python: mymodels.py:Logistic, extra: 1}"))
    with pytest.raises(msm.ConfigurationError, match=r"c.yaml:3: components.growth.component must be a registered key"):
        load_config(path)
