"""Component classes from a user's own Python file or module, named in a configuration.

A YAML configuration may name a class instead of a registered key::

    components:
      growth:
        component: {python: mymodels.py:Logistic}   # a file, relative to the YAML file
        r: 0.5
      other:
        component: {python: mylab.models:Decay}     # an importable module

:func:`load_component_class` imports the file (once per process: a second
reference to the same file reuses the module) or the module, and returns the
class, which must be a :class:`msmcore.Component` subclass. While a file runs,
its folder is first on ``sys.path``, so it may import modules beside it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
import traceback
from pathlib import Path
from types import ModuleType

from msmcore.component import Component
from msmcore.errors import ConfigurationError, MSMError

__all__ = ["load_component_class", "parse_reference"]

_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_CLASS = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_FILES: dict[Path, ModuleType] = {}


def parse_reference(reference: str) -> tuple[str, str, bool]:
    """Split ``"file.py:Class"`` or ``"package.module:Class"`` into ``(target, class, is_file)``.

    Raises
    ------
    ConfigurationError
        When the text has no ``:Class`` part or names neither a ``.py`` file
        nor a dotted module.
    """
    if not isinstance(reference, str) or ":" not in reference:
        raise ConfigurationError(
            f"python: {reference!r} must look like 'mymodels.py:ClassName' (a file, relative to the "
            "configuration) or 'package.module:ClassName' (an importable module)"
        )
    target, _, cls = reference.rpartition(":")
    target, cls = target.strip(), cls.strip()
    is_file = target.endswith(".py") or "/" in target or "\\" in target
    if not cls or not _CLASS.match(cls) or not target or (not is_file and not _MODULE.match(target)):
        raise ConfigurationError(
            f"python: {reference!r} must look like 'mymodels.py:ClassName' or 'package.module:ClassName'"
        )
    return target, cls, is_file


def _where_in(exc: BaseException, path: Path) -> str:
    """``file:line`` of the deepest frame of ``exc`` inside ``path`` (or of a SyntaxError)."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f"{exc.filename or path}:{exc.lineno}"
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if Path(frame.filename).resolve() == path:
            return f"{path}:{frame.lineno}"
    return str(path)


def _import_file(path: Path) -> ModuleType:
    path = path.resolve()
    if path in _FILES:
        return _FILES[path]
    if not path.is_file():
        raise ConfigurationError(f"python file {path} does not exist (paths are relative to the configuration "
                                 "file); check the name")
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = f"msm_user_{re.sub(r'[^0-9A-Za-z_]', '_', path.stem)}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigurationError(f"python file {path} cannot be imported (not a Python source file?)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except MSMError as exc:
        del sys.modules[name]
        raise ConfigurationError(f"importing {_where_in(exc, path)} failed: {exc}") from exc
    except BaseException as exc:  # noqa: BLE001 - a user's file may raise anything while it runs
        del sys.modules[name]
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise ConfigurationError(
            f"importing {_where_in(exc, path)} failed: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        try:
            sys.path.remove(str(path.parent))
        except ValueError:  # pragma: no cover - the file removed it itself
            pass
    _FILES[path] = module
    return module


def _import_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise ConfigurationError(f"no module named '{exc.name}' (for python: {name}:...); install it, put it "
                                     "on PYTHONPATH, or name a file instead: 'mymodels.py:ClassName'") from None
        raise ConfigurationError(f"importing module {name} failed: {type(exc).__name__}: {exc}") from exc
    except MSMError as exc:
        raise ConfigurationError(f"importing module {name} failed: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - any failure inside the user's module
        raise ConfigurationError(f"importing module {name} failed: {type(exc).__name__}: {exc}") from exc


def load_component_class(reference: str, base: str | Path = ".") -> type[Component]:
    """The :class:`Component` subclass named by ``reference``.

    Parameters
    ----------
    reference
        ``"path/to/file.py:ClassName"`` (relative to ``base``, or absolute) or
        ``"package.module:ClassName"``; ``ClassName`` may be dotted
        (``Outer.Inner``).
    base
        Folder relative file paths start from (the configuration's folder).

    Raises
    ------
    ConfigurationError
        A missing file or module, an exception while importing it (naming
        ``file:line``), no such class (listing the components the module
        defines), or a class that is not a ``Component`` subclass.
    """
    target, cls_name, is_file = parse_reference(reference)
    if is_file:
        path = Path(target).expanduser()
        module = _import_file(path if path.is_absolute() else Path(base) / path)
        origin = str(Path(module.__file__ or target))
    else:
        module = _import_module(target)
        origin = target
    obj: object = module
    for part in cls_name.split("."):
        if not hasattr(obj, part):
            found = sorted(n for n, v in vars(module).items() if isinstance(v, type) and issubclass(v, Component)
                           and v is not Component)
            have = ", ".join(found) if found else "none"
            raise ConfigurationError(f"{origin} has no class '{cls_name}'; the Component subclasses it defines: "
                                     f"{have}")
        obj = getattr(obj, part)
    if not isinstance(obj, type) or not issubclass(obj, Component):
        raise ConfigurationError(
            f"{origin}:{cls_name} is a {type(obj).__name__ if not isinstance(obj, type) else 'class'} but not a "
            "subclass of msmcore.Component; derive it from msm.Component"
        )
    return obj
