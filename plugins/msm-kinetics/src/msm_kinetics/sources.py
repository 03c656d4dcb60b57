"""Where a network comes from: Antimony text, an Antimony or SBML file, or an SBML string."""

from __future__ import annotations

import logging
from pathlib import Path

from msm_kinetics.antimony_subset import parse_model
from msm_kinetics.model import KineticModel, from_subset
from msmcore.errors import ConfigurationError

__all__ = ["ANTIMONY_SUFFIXES", "SBML_SUFFIXES", "read_model"]

logger = logging.getLogger(__name__)

SBML_SUFFIXES = (".xml", ".sbml")
ANTIMONY_SUFFIXES = (".ant", ".antimony", ".txt")


def read_model(*, model: str | None = None, model_file: str | Path | None = None, sbml: str | None = None,
               reader: str = "auto", where: str = "kinetics model") -> KineticModel:
    """Read a network from exactly one source.

    Parameters
    ----------
    model
        Antimony text.
    model_file
        A file: Antimony (``.ant``, ``.antimony``, ``.txt``) or SBML (``.xml``,
        ``.sbml``); any other suffix is SBML when the text starts with ``<``.
    sbml
        An SBML document.
    reader
        For Antimony text: ``"antimony"`` (the ``antimony`` package, full
        language, via SBML), ``"subset"`` (the built-in mass-action subset,
        :mod:`msm_kinetics.antimony_subset`) or ``"auto"`` (``antimony`` when it
        and ``libsbml`` import, else the subset with a warning).
    where
        Names the setting and component in error messages.

    Raises
    ------
    msmcore.ConfigurationError
        For no or several sources, an unreadable file, and every unsupported
        construct (see :mod:`msm_kinetics.sbml_reader`).
    """
    from msm_kinetics import sbml_reader

    given = {k: v for k, v in (("model", model), ("model_file", model_file), ("sbml", sbml)) if v is not None}
    if len(given) != 1:
        raise ConfigurationError(
            f"{where}: give exactly one of the settings 'model' (Antimony text), 'model_file' (an Antimony "
            f"or SBML file) or 'sbml' (an SBML document); got {', '.join(map(repr, given)) or 'none'}")
    (key, value), = given.items()
    where = f"setting '{key}' of {where}"
    kind = "antimony"
    if key == "sbml":
        kind, text = "sbml", str(value)
    elif key == "model_file":
        path = Path(value)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"{where}: cannot read {str(path)!r} (from {Path.cwd()}): "
                                     f"{exc.strerror or exc}") from None
        suffix = path.suffix.lower()
        if suffix in SBML_SUFFIXES or (suffix not in ANTIMONY_SUFFIXES and text.lstrip().startswith("<")):
            kind = "sbml"
        where = f"{where} ({str(path)!r})"
    else:
        text = str(value)
    if kind == "sbml":
        if reader == "subset":
            raise ConfigurationError(f"{where}: reader='subset' reads Antimony text only, not SBML")
        return sbml_reader.load_sbml(text, where)
    if reader == "auto":
        try:
            import antimony  # noqa: F401
            import libsbml  # noqa: F401
        except ImportError as exc:
            logger.warning("%s: the antimony/libsbml packages do not import (%s); reading the model with the "
                           "built-in mass-action subset of Antimony", where, exc)
            reader = "subset"
        else:
            reader = "antimony"
    if reader == "subset":
        return from_subset(parse_model(text, where))
    return sbml_reader.load_antimony(text, where)
