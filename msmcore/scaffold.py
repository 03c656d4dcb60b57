"""``msm new-plugin``: create a plugin package from the bundled template.

The template is the installable package ``plugins/_template`` (distribution
``msm-template``, import package ``msm_template``, family ``template``). A new
plugin named ``NAME`` gets distribution ``msm-NAME``, import package
``msm_NAME`` and component keys ``NAME.<component>``.
"""

from __future__ import annotations

import keyword
import logging
import re
import shutil
from importlib import resources
from pathlib import Path

from msmcore.errors import ConfigurationError

__all__ = ["TEMPLATE_FAMILY", "new_plugin", "template_dir"]

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
        For an invalid name or an existing target folder.
    """
    if name.startswith("msm-") or name.startswith("msm_"):
        name = name[4:]
    if not _NAME.match(name) or keyword.iskeyword(name):
        raise ConfigurationError(
            f"invalid plugin name {name!r}: use lowercase letters, digits and underscores, "
            "starting with a letter (e.g. 'optics'); it becomes the component family"
        )
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
