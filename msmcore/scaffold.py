"""``msm new-plugin``: create a plugin package from the bundled template.

The template is the installable package ``plugins/_template`` (distribution
``msm-template``, import package ``msm_template``, family ``template``). A new
plugin named ``NAME`` gets distribution ``msm-NAME``, import package
``msm_NAME`` and component keys ``NAME.<component>``.
"""

from __future__ import annotations

import importlib.metadata as importlib_metadata
import importlib.util
import keyword
import logging
import re
import shutil
from importlib import resources
from pathlib import Path

from msmcore.errors import ConfigurationError
from msmcore.plugins import ENTRY_POINT_GROUP

__all__ = ["TEMPLATE_FAMILY", "installed_uses", "new_plugin", "template_dir"]

logger = logging.getLogger(__name__)

TEMPLATE_FAMILY = "template"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SKIP = {"__pycache__", ".pytest_cache", "build", "dist"}


def template_dir() -> Path:
    """Folder of the plugin template shipped with msmcore."""
    return Path(str(resources.files("msmcore") / "templates" / "plugin")).resolve()


def _substitute(text: str, family: str) -> str:
    text = text.replace(f"msm_{TEMPLATE_FAMILY}", f"msm_{family}")
    text = text.replace(f"msm-{TEMPLATE_FAMILY}", f"msm-{family.replace('_', '-')}")
    text = re.sub(rf"(?<![\w-]){TEMPLATE_FAMILY}\.(?=[a-z])", f"{family}.", text)  # component keys
    return re.sub(rf"^{TEMPLATE_FAMILY} = ", f"{family} = ", text, flags=re.MULTILINE)  # entry point


def installed_uses(name: str) -> list[str]:
    """What installed software already uses plugin name ``name``.

    Looks for the distribution ``msm-<name>``, the import package
    ``msm_<name>`` and an entry point ``<name>`` in the ``msmcore.plugins``
    group (the component family), without importing anything.

    Returns
    -------
    list of str
        One description per use found (empty when the name is free).
    """
    uses: list[str] = []
    dist = f"msm-{name.replace('_', '-')}"
    try:
        found = importlib_metadata.distribution(dist)
        uses.append(f"the distribution {found.metadata['Name']} {found.version} is installed")
    except importlib_metadata.PackageNotFoundError:
        pass
    try:
        spec = importlib.util.find_spec(f"msm_{name}")
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        uses.append(f"the package msm_{name} is importable (from {spec.origin or spec.submodule_search_locations})")
    for ep in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            owner = getattr(getattr(ep, "dist", None), "metadata", {}).get("Name", "an installed distribution")
            uses.append(f"{owner} provides the component family '{name}' (entry point {ep.name} = {ep.value})")
            break
    return uses


def _check_not_installed(name: str) -> None:
    uses = installed_uses(name)
    if uses:
        raise ConfigurationError(
            f"plugin name '{name}' is taken: {'; '.join(uses)}. Installing a second msm-{name} would replace or "
            f"clash with it; choose another name (e.g. '{name}2' or 'mylab_{name}')"
        )


def new_plugin(name: str, directory: str | Path = ".", *, force: bool = False) -> Path:
    """Create plugin ``msm-<name>`` in ``directory``/msm-<name> and return its path.

    Parameters
    ----------
    name
        Component family: lowercase letters, digits and underscores, starting
        with a letter (``"optics"`` gives keys ``optics.<component>``).
    directory
        Parent folder of the new package.
    force
        Overwrite an existing folder.

    Raises
    ------
    ConfigurationError
        For an invalid name, a name an installed package already uses (see
        :func:`installed_uses`; ``force`` does not override this), or an
        existing target folder.
    """
    if name.startswith("msm-") or name.startswith("msm_"):
        name = name[4:]
    if not _NAME.match(name) or keyword.iskeyword(name):
        raise ConfigurationError(
            f"invalid plugin name {name!r}: use lowercase letters, digits and underscores, "
            "starting with a letter (e.g. 'optics'); it becomes the component family"
        )
    _check_not_installed(name)
    source = template_dir()
    if not (source / "pyproject.toml").is_file():
        raise ConfigurationError(f"the plugin template is missing from {source}; reinstall msmcore")
    target = Path(directory) / f"msm-{name.replace('_', '-')}"
    if target.exists():
        if not force:
            raise ConfigurationError(f"{target} already exists; choose another --dir or pass --force")
        shutil.rmtree(target)
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if any(part in _SKIP or part.endswith(".egg-info") for part in rel.parts):
            continue
        dest = target / Path(*(_substitute(p, name) for p in rel.parts))
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(_substitute(path.read_text(encoding="utf-8"), name), encoding="utf-8")
    logger.info("created plugin %s from %s", target, source)
    return target
