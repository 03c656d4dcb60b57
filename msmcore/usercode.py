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

A configuration may also name a function that builds the whole coupling
(``build: {python: gray_scott.py:build, args: {n: 24}}``): :func:`call_builder`
loads it the same way, calls it with the arguments and returns what it built.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import re
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from msmcore.component import Component
from msmcore.errors import ConfigurationError, MSMError

__all__ = ["call_builder", "load_component_class", "load_function", "parse_reference"]

_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_CLASS = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_FILES: dict[Path, ModuleType] = {}


def parse_reference(reference: str, what: str = "ClassName") -> tuple[str, str, bool]:
    """Split ``"file.py:Class"`` or ``"package.module:Class"`` into ``(target, class, is_file)``.

    ``what`` is the placeholder the messages show for the part after the colon.

    Raises
    ------
    ConfigurationError
        When the text has no ``:Class`` part or names neither a ``.py`` file
        nor a dotted module.
    """
    if not isinstance(reference, str) or ":" not in reference:
        raise ConfigurationError(
            f"python: {reference!r} must look like 'mymodels.py:{what}' (a file, relative to the "
            f"configuration) or 'package.module:{what}' (an importable module)"
        )
    target, _, cls = reference.rpartition(":")
    target, cls = target.strip(), cls.strip()
    is_file = target.endswith(".py") or "/" in target or "\\" in target
    if not cls or not _CLASS.match(cls) or not target or (not is_file and not _MODULE.match(target)):
        raise ConfigurationError(
            f"python: {reference!r} must look like 'mymodels.py:{what}' or 'package.module:{what}'"
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
                                     "on PYTHONPATH, or name a file instead: 'mymodels.py:Name'") from None
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
    obj, origin, cls_name, module = _lookup(reference, base, "ClassName")
    if obj is None:
        found = sorted(n for n, v in vars(module).items() if isinstance(v, type) and issubclass(v, Component)
                       and v is not Component)
        have = ", ".join(found) if found else "none"
        raise ConfigurationError(f"{origin} has no class '{cls_name}'; the Component subclasses it defines: "
                                 f"{have}")
    if not isinstance(obj, type) or not issubclass(obj, Component):
        raise ConfigurationError(
            f"{origin}:{cls_name} is a {type(obj).__name__ if not isinstance(obj, type) else 'class'} but not a "
            "subclass of msmcore.Component; derive it from msm.Component"
        )
    return obj


def _lookup(reference: str, base: str | Path, what: str) -> tuple[Any, str, str, ModuleType]:
    """``(object or None when missing, file or module, name after the colon, module)`` of ``reference``."""
    target, attr, is_file = parse_reference(reference, what)
    if is_file:
        path = Path(target).expanduser()
        module = _import_file(path if path.is_absolute() else Path(base) / path)
        origin = str(Path(module.__file__ or target))
    else:
        module = _import_module(target)
        origin = target
    obj: object = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            return None, origin, attr, module
        obj = getattr(obj, part)
    return obj, origin, attr, module


def load_function(reference: str, base: str | Path = ".") -> Any:
    """The function (any callable) named by ``"file.py:function"`` or ``"package.module:function"``.

    Raises
    ------
    ConfigurationError
        As :func:`load_component_class`: a missing file or module, an exception
        while importing it, no such name (listing the functions the module
        defines), or an object that cannot be called.
    """
    obj, origin, fn_name, module = _lookup(reference, base, "function")
    if obj is None:
        found = sorted(n for n, v in vars(module).items() if inspect.isfunction(v) and not n.startswith("_")
                       and getattr(v, "__module__", None) == module.__name__)
        raise ConfigurationError(f"{origin} has no function '{fn_name}'; the functions it defines: "
                                 f"{', '.join(found) if found else 'none'}")
    if not callable(obj):
        raise ConfigurationError(f"{origin}:{fn_name} is a {type(obj).__name__}, not a function; name a function "
                                 "that builds and returns the coupling")
    return obj


def call_builder(reference: str, args: dict[str, Any], base: str | Path = ".") -> tuple[Any, Any]:
    """Call the function ``reference`` names with ``args`` (keywords); return ``(coupling, scheme or None)``.

    The function returns ``(coupling, scheme)`` or a :class:`msmcore.Coupling`.

    Raises
    ------
    ConfigurationError
        Loading it (:func:`load_function`); arguments it does not take (before
        calling it); an exception while it runs (naming ``file:line`` of the
        deepest frame in its file); a return value of another type.
    """
    from msmcore.coupling import Coupling
    from msmcore.schemes import Scheme

    fn = load_function(reference, base)
    name = reference.strip()
    try:
        inspect.signature(fn).bind(**args)
    except TypeError as exc:
        raise ConfigurationError(f"args: {name} cannot be called with {sorted(args)}: {exc}") from None
    except ValueError:  # pragma: no cover - no signature (a builtin): the call itself will tell
        pass
    source = inspect.getsourcefile(fn) if inspect.isfunction(fn) else None
    try:
        built = fn(**args)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - a user's function may raise anything
        at = _where_in(exc, Path(source).resolve()) if source else name
        what = "" if isinstance(exc, MSMError) else f"{type(exc).__name__}: "
        raise ConfigurationError(f"calling {name} failed at {at}: {what}{exc}") from exc
    if isinstance(built, Coupling):
        return built, None
    if isinstance(built, tuple) and len(built) == 2 and isinstance(built[0], Coupling) \
            and isinstance(built[1], Scheme):
        return built[0], built[1]
    got = type(built).__name__ if not isinstance(built, tuple) else \
        "(" + ", ".join(type(x).__name__ for x in built) + ")"
    raise ConfigurationError(f"{name} must return (coupling, scheme) or a Coupling, got {got}")
