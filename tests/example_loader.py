"""Import a module of an example folder (``examples/<folder>/<name>.py``) the way the example runs it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(folder: str, name: str) -> ModuleType:
    """``examples/<folder>/<name>.py`` as a module, with its folder on ``sys.path`` while it imports
    (so the example's own sibling imports work); each call gives a fresh module, registered in
    ``sys.modules`` (dataclasses and pickling look their module up there)."""
    where = EXAMPLES / folder
    spec = importlib.util.spec_from_file_location(f"{folder}_example_{name}", where / f"{name}.py")
    assert spec is not None and spec.loader is not None, where / f"{name}.py"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    sys.path.insert(0, str(where))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(where))
    return module
