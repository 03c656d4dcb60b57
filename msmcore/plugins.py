"""Discovery and registry of solver components.

Components come from three places, all ending in one :class:`PluginRegistry`:

* installed plugins, found through the ``msmcore.plugins`` entry-point group
  (read with :mod:`importlib.metadata`) and called through the pluggy hooks of
  :mod:`msmcore.hookspecs`;
* plugin objects handed over at run time with :meth:`PluginRegistry.add_plugin`;
* single classes registered in a user's own script with
  :func:`register_component` (also usable as a decorator).

Discovery is lazy: nothing is imported until a component is first looked up,
and the result is cached until :meth:`PluginRegistry.reload`. A plugin that
fails to import or to register warns with :class:`PluginWarning`, naming the
distribution and the error, and the other plugins still load. Two sources
registering the same key raise :class:`~msmcore.errors.DuplicateComponentError`
naming both. A script registering a key a plugin already provides gets that
error at once, from :meth:`PluginRegistry.register` (which runs discovery to
find out), unless it passes ``replace=True`` to shadow the plugin's component;
the registry is left as it was, so every other key keeps working. A plugin
added later with a key a script registered keeps the key, and the script's
registration is dropped with a :class:`PluginWarning`.

Environment switches, read at discovery time:

``MSM_DISABLE_PLUGIN_AUTOLOAD=1``
    load no entry-point plugins (script registrations still work);
``MSM_LOAD_PLUGINS=a,b``
    load only the named plugins (entry-point name or distribution name);
    an empty value loads none.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata as importlib_metadata
import logging
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from msmcore import hookspecs
from msmcore.errors import ConfigurationError, DuplicateComponentError, PluginLoadError, UnknownComponentError

__all__ = [
    "ENTRY_POINT_GROUP",
    "ComponentInfo",
    "PluginInfo",
    "PluginRegistry",
    "PluginWarning",
    "get_registry",
    "register_component",
]

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "msmcore.plugins"
ENV_DISABLE_AUTOLOAD = "MSM_DISABLE_PLUGIN_AUTOLOAD"
ENV_LOAD_PLUGINS = "MSM_LOAD_PLUGINS"
SCRIPT_SOURCE = "<script>"
INSTALL_HINT = (
    "Install more with `pip install <plugin>` (this repository ships them under "
    "plugins/, e.g. `pip install -e plugins/msm-fluid`), list installed ones with "
    "`msm plugins`, or register your own class with msmcore.register_component()."
)
_KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)+$")


class PluginWarning(UserWarning):
    """A plugin was skipped because it failed to import or to register."""


@dataclass(frozen=True)
class PluginInfo:
    """One plugin as discovery saw it.

    Attributes
    ----------
    name
        Entry-point name (the component family), or the name given to
        :meth:`PluginRegistry.add_plugin`.
    distribution, version
        The installed distribution providing it, when known.
    status
        ``"loaded"``, ``"failed"`` or ``"skipped"`` (excluded by an
        environment switch).
    error
        Why it failed, for ``status == "failed"``.
    info
        What the plugin's ``msm_plugin_info`` hook returned.
    """

    name: str
    distribution: str | None
    version: str | None
    status: str
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Human-readable origin, e.g. ``"plugin 'fluid' (msm-fluid 0.1.0)"``."""
        if self.name == SCRIPT_SOURCE:
            return "the user's script"
        dist = ""
        if self.distribution:
            dist = f" ({self.distribution} {self.version})" if self.version else f" ({self.distribution})"
        return f"plugin '{self.name}'{dist}"


@dataclass(frozen=True)
class ComponentInfo:
    """A registered component: its key, how to build it and where it came from.

    ``target`` is the factory, or a ``"package.module:Class"`` reference imported
    the first time :attr:`factory` is used (so listing or discovering plugins
    imports none of their solver modules).
    """

    key: str
    target: Callable[..., Any] | str
    source: PluginInfo
    description: str
    _resolved: list[Callable[..., Any]] = field(default_factory=list, compare=False, repr=False)

    @property
    def factory(self) -> Callable[..., Any]:
        """The component class or factory (imported now if registered by reference)."""
        if not isinstance(self.target, str):
            return self.target
        if not self._resolved:
            self._resolved.append(_import_reference(self.target, self.key, self.source))
        return self._resolved[0]

    @property
    def distribution(self) -> str | None:
        """Distribution that provides the component (``None`` for a script)."""
        return self.source.distribution

    @property
    def version(self) -> str | None:
        """Version of that distribution."""
        return self.source.version


def _first_line(text: str | None) -> str:
    for line in (text or "").strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _check_key_and_factory(key: str, factory: Callable[..., Any] | str, source: PluginInfo) -> None:
    if not isinstance(key, str) or not _KEY_PATTERN.match(key):
        raise PluginLoadError(
            f"{source.label} registered the invalid component key {key!r}: keys look like "
            "'<family>.<component>', e.g. 'fluid.diffusion'"
        )
    if isinstance(factory, str):
        if not re.match(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", factory):
            raise PluginLoadError(f"{source.label} registered {key!r} with {factory!r}; a reference looks "
                                  "like 'package.module:ClassName'")
    elif not callable(factory):
        raise PluginLoadError(f"{source.label} registered {key!r} with a non-callable {factory!r}")


def _returning(value: Any) -> Callable[[], Any]:
    """A loader that gives back ``value`` (a plugin object registered at run time)."""
    return lambda: value


def _import_reference(reference: str, key: str, source: PluginInfo) -> Callable[..., Any]:
    module_name, _, attr = reference.partition(":")
    try:
        found: Callable[..., Any] = getattr(importlib.import_module(module_name), attr)
        return found
    except Exception as exc:  # noqa: BLE001 - report any import failure with its origin
        raise PluginLoadError(f"component '{key}' of {source.label} cannot be imported from {reference!r}: "
                              f"{type(exc).__name__}: {exc}") from exc


def _default_entry_points() -> Iterable[importlib_metadata.EntryPoint]:
    return importlib_metadata.entry_points(group=ENTRY_POINT_GROUP)


class PluginRegistry:
    """The set of components available to couplings.

    Parameters
    ----------
    entry_points
        Callable returning the entry points to consider; defaults to the
        installed ``msmcore.plugins`` group. Tests pass synthetic
        :class:`importlib.metadata.EntryPoint` objects here.
    environ
        Mapping read for the environment switches; defaults to ``os.environ``
        (read at discovery time, not at construction).
    """

    def __init__(
        self,
        entry_points: Callable[[], Iterable[importlib_metadata.EntryPoint]] | None = None,
        environ: dict[str, str] | None = None,
    ) -> None:
        self._entry_points = entry_points or _default_entry_points
        self._environ = environ
        self._components: dict[str, ComponentInfo] | None = None
        self._plugins: list[PluginInfo] = []
        self._runtime_plugins: list[tuple[object, str]] = []
        self._script_components: list[tuple[str, Callable[..., Any], str | None, bool]] = []
        self._surrogates: dict[str, tuple[Callable[..., Any] | str, PluginInfo]] = {}

    # -- public API --------------------------------------------------------
    def get(self, key: str) -> ComponentInfo:
        """Return the registered component ``key``.

        Raises
        ------
        UnknownComponentError
            When no plugin or script registered ``key``; the message lists
            the installed keys, close matches, and how to install more.
        """
        components = self._ensure_loaded()
        try:
            return components[key]
        except KeyError:
            raise UnknownComponentError(self._unknown_message(key, components)) from None

    def create(self, key: str, **settings: Any) -> Any:
        """Build the component ``key`` with the given settings."""
        return self.get(key).factory(**settings)

    def surrogate(self, key: str) -> Callable[..., Any]:
        """The surrogate model factory a plugin registered as ``key`` (``msm_register_surrogates``).

        Raises
        ------
        ConfigurationError
            No plugin registered ``key``; the message lists those that are.
        """
        self._ensure_loaded()
        if key not in self._surrogates:
            have = ", ".join(sorted(self._surrogates)) or "none (install msm-ml: pip install plugins/msm-ml)"
            raise ConfigurationError(f"no surrogate model '{key}' is registered; registered: {have}")
        factory, source = self._surrogates[key]
        if isinstance(factory, str):
            factory = _import_reference(factory, key, source)
            self._surrogates[key] = (factory, source)
        return factory

    def surrogate_keys(self) -> list[str]:
        """Sorted keys of the registered surrogate models."""
        self._ensure_loaded()
        return sorted(self._surrogates)

    def surrogate_models(self) -> list[tuple[str, PluginInfo]]:
        """The registered surrogate models as ``(key, plugin that registered it)``, sorted by key."""
        self._ensure_loaded()
        return [(key, self._surrogates[key][1]) for key in sorted(self._surrogates)]

    def keys(self) -> list[str]:
        """Sorted list of every registered component key."""
        return sorted(self._ensure_loaded())

    def components(self) -> list[ComponentInfo]:
        """Every registered component, sorted by key."""
        components = self._ensure_loaded()
        return [components[k] for k in sorted(components)]

    def plugins(self) -> list[PluginInfo]:
        """Every plugin discovery considered: loaded, failed or skipped."""
        self._ensure_loaded()
        return list(self._plugins)

    def register(
        self,
        key: str,
        factory: Callable[..., Any],
        *,
        description: str | None = None,
        replace: bool = False,
    ) -> None:
        """Register one component from a script, without any package.

        Parameters
        ----------
        key
            ``"<family>.<name>"``.
        factory
            A :class:`msmcore.Component` subclass or a callable returning one.
        description
            One line for ``msm plugins``; defaults to the docstring's first line.
        replace
            Allow overriding a key an installed plugin already provides.

        Raises
        ------
        DuplicateComponentError
            ``key`` is already registered (by a plugin or an earlier script
            registration) and ``replace`` is false. Discovery runs now to find
            out, so the clash is reported here, once; the registry is left as
            it was and every other key keeps working. Should a plugin added
            later (:meth:`add_plugin`) bring the same key, the plugin keeps it
            and the script's registration is dropped with a :class:`PluginWarning`.
        """
        _check_key_and_factory(key, factory, self._script_source())
        if not replace:  # a clash with a plugin is an error now, not at every later lookup
            self._ensure_loaded()
        entry = (key, factory, description, replace)
        self._script_components.append(entry)
        if self._components is not None:
            try:
                self._add(self._components, key, factory, self._script_source(), description, replace)
            except Exception:
                self._script_components.remove(entry)
                raise

    def unregister(self, key: str) -> None:
        """Forget a component registered with :meth:`register`."""
        self._script_components = [e for e in self._script_components if e[0] != key]
        self.reload()

    def add_plugin(self, plugin: object, name: str | None = None) -> None:
        """Add a plugin object (a module or class with hook implementations)."""
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        self._runtime_plugins.append((plugin, name))
        self.reload()

    def reload(self) -> None:
        """Drop the cached discovery; the next lookup discovers again."""
        self._components = None
        self._plugins = []

    # -- discovery ---------------------------------------------------------
    def _env(self) -> dict[str, str] | os._Environ[str]:
        return self._environ if self._environ is not None else os.environ

    def _script_source(self) -> PluginInfo:
        return PluginInfo(SCRIPT_SOURCE, None, None, "loaded")

    def _selected(self, ep: importlib_metadata.EntryPoint, dist: str | None) -> bool:
        env = self._env()
        if env.get(ENV_DISABLE_AUTOLOAD, "").strip().lower() in ("1", "true", "yes", "on"):
            return False
        if ENV_LOAD_PLUGINS not in env:
            return True
        wanted = {_normalise(n.strip()) for n in env[ENV_LOAD_PLUGINS].split(",") if n.strip()}
        return _normalise(ep.name) in wanted or (dist is not None and _normalise(dist) in wanted)

    def _ensure_loaded(self) -> dict[str, ComponentInfo]:
        if self._components is not None:
            return self._components
        components: dict[str, ComponentInfo] = {}
        plugins: list[PluginInfo] = []
        self._surrogates = {}
        manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        manager.add_hookspecs(hookspecs)

        candidates: list[tuple[Callable[[], object], str, str | None, str | None]] = []
        seen: set[str] = set()
        for ep in self._entry_points():
            dist_obj = getattr(ep, "dist", None)
            dist = dist_obj.metadata["Name"] if dist_obj is not None else None
            version = dist_obj.version if dist_obj is not None else None
            ident = f"{ep.name}={ep.value}"
            if ident in seen:  # the same distribution seen twice on sys.path
                continue
            seen.add(ident)
            if not self._selected(ep, dist):
                plugins.append(PluginInfo(ep.name, dist, version, "skipped"))
                logger.debug("plugin %s skipped by environment switch", ep.name)
                continue
            candidates.append((ep.load, ep.name, dist, version))
        self._warn_unknown_allow_list({c[1] for c in candidates} | {p.name for p in plugins},
                                      {c[2] for c in candidates} | {p.distribution for p in plugins})
        for plugin, name in self._runtime_plugins:
            candidates.append((_returning(plugin), name, None, None))

        for load, name, dist, version in candidates:
            source = PluginInfo(name, dist, version, "loaded")
            where = f"plugin '{name}'" + (f" from distribution '{dist}'" if dist else "")
            try:
                module = load()
                manager.register(module, name=name)
                info = self._plugin_info(manager, name)
                source = PluginInfo(name, dist, version, "loaded", info=info)
                registered = self._call_register(manager, name, source)
                models = self._call_register(manager, name, source, "msm_register_surrogates")
            except Exception as exc:  # noqa: BLE001 - any plugin failure is isolated
                if manager.has_plugin(name):
                    manager.unregister(name=name)
                message = f"{where} failed to load and is skipped: {type(exc).__name__}: {exc}"
                warnings.warn(message, PluginWarning, stacklevel=3)
                logger.warning(message)
                plugins.append(PluginInfo(name, dist, version, "failed", error=f"{type(exc).__name__}: {exc}"))
                continue
            for key, factory, description in registered:
                self._add(components, key, factory, source, description, replace=False)
            for key, factory, _ in models:
                _check_key_and_factory(key, factory, source)
                self._surrogates[key] = (factory, source)
            plugins.append(source)

        for entry in list(self._script_components):
            key, factory, description, replace = entry
            try:
                self._add(components, key, factory, self._script_source(), description, replace)
            except DuplicateComponentError as exc:
                # A plugin loaded after the script registered the key (add_plugin, reload): the
                # plugin keeps it, the script's entry is dropped, every other key keeps working.
                self._script_components.remove(entry)
                message = f"{exc} The script's registration of '{key}' is dropped."
                warnings.warn(message, PluginWarning, stacklevel=3)
                logger.warning(message)
        self._plugins = plugins
        self._components = components
        return components

    def _warn_unknown_allow_list(self, names: set[str], dists: set[str | None]) -> None:
        env = self._env()
        if ENV_LOAD_PLUGINS not in env:
            return
        known = {_normalise(n) for n in names} | {_normalise(d) for d in dists if d}
        for wanted in (n.strip() for n in env[ENV_LOAD_PLUGINS].split(",")):
            if wanted and _normalise(wanted) not in known:
                warnings.warn(
                    f"{ENV_LOAD_PLUGINS} names '{wanted}', but no installed plugin has that name",
                    PluginWarning,
                    stacklevel=4,
                )

    @staticmethod
    def _plugin_info(manager: pluggy.PluginManager, name: str) -> dict[str, Any]:
        plugin = manager.get_plugin(name)
        for impl in manager.hook.msm_plugin_info.get_hookimpls():
            if impl.plugin is plugin:
                info = impl.function()
                return dict(info) if isinstance(info, Mapping) else {}
        return {}

    @staticmethod
    def _call_register(
        manager: pluggy.PluginManager, name: str, source: PluginInfo, hook: str = "msm_register_components"
    ) -> list[tuple[str, Callable[..., Any], str | None]]:
        """Call one plugin's ``hook`` (default ``msm_register_components``) and collect what it registers."""
        registered: list[tuple[str, Callable[..., Any], str | None]] = []

        def register(key: str, factory: Callable[..., Any], description: str | None = None) -> None:
            registered.append((key, factory, description))

        plugin = manager.get_plugin(name)
        caller = manager.subset_hook_caller(
            hook,
            remove_plugins=[p for p in manager.get_plugins() if p is not plugin],
        )
        caller(register=register)
        if not registered and hook == "msm_register_components":
            logger.info("%s registered no components", source.label)
        return registered

    def _add(
        self,
        components: dict[str, ComponentInfo],
        key: str,
        factory: Callable[..., Any],
        source: PluginInfo,
        description: str | None,
        replace: bool,
    ) -> None:
        _check_key_and_factory(key, factory, source)
        if key in components and not replace:
            other = components[key].source
            if other.name == source.name and components[key].target is factory:
                return
            raise DuplicateComponentError(
                f"component key '{key}' is registered twice: by {other.label} and by "
                f"{source.label}. Uninstall one of them, pick the plugins to load with "
                f"{ENV_LOAD_PLUGINS}=..., or pass replace=True when registering from a script."
            )
        if description is None:
            description = "" if isinstance(factory, str) else _first_line(getattr(factory, "__doc__", None))
        components[key] = ComponentInfo(key, factory, source, description)

    def _unknown_message(self, key: str, components: dict[str, ComponentInfo]) -> str:
        lines = [f"unknown component '{key}'."]
        close = difflib.get_close_matches(key, list(components), n=3)
        if close:
            lines.append("Did you mean " + " or ".join(f"'{c}'" for c in close) + "?")
        if components:
            listed = ", ".join(
                f"{k} ({c.distribution or c.source.label})" for k, c in sorted(components.items())
            )
            lines.append(f"Installed components: {listed}.")
        else:
            lines.append("No components are installed.")
        env = self._env()
        if env.get(ENV_DISABLE_AUTOLOAD, "").strip():
            lines.append(f"Plugin autoloading is off ({ENV_DISABLE_AUTOLOAD} is set).")
        elif ENV_LOAD_PLUGINS in env:
            lines.append(f"Only plugins named in {ENV_LOAD_PLUGINS}={env[ENV_LOAD_PLUGINS]!r} are loaded.")
        failed = [p for p in self._plugins if p.status == "failed"]
        if failed:
            lines.append("Plugins that failed to load: " + ", ".join(p.label for p in failed) + ".")
        lines.append(INSTALL_HINT)
        return " ".join(lines)


_default_registry = PluginRegistry()


def get_registry() -> PluginRegistry:
    """Return the process-wide registry used by :class:`msmcore.Coupling`."""
    return _default_registry


def register_component(
    key: str,
    factory: Callable[..., Any] | None = None,
    *,
    description: str | None = None,
    replace: bool = False,
) -> Any:
    """Register a component class from a script; usable as a decorator.

    Examples
    --------
    >>> import msmcore as msm
    >>> @msm.register_component("mylab.decay")          # doctest: +SKIP
    ... class Decay(msm.Component):
    ...     '''Exponential decay in every cell.'''
    """
    if factory is None:
        def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
            _default_registry.register(key, f, description=description, replace=replace)
            return f

        return decorator
    _default_registry.register(key, factory, description=description, replace=replace)
    return factory
