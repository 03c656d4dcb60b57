"""Entry point of the msm-ml plugin: registers its surrogate models with msmcore."""

from __future__ import annotations

from msmcore import hookimpl
from msmcore.hookspecs import RegisterSurrogate


@hookimpl
def msm_register_surrogates(register: RegisterSurrogate) -> None:
    """Register ``ml.gp`` and ``ml.ensemble`` by reference (scikit-learn / torch imported on first use)."""
    register("ml.gp", "msm_ml.gp:GaussianProcess")
    register("ml.ensemble", "msm_ml.deep_ensemble:DeepEnsemble")


@hookimpl
def msm_plugin_info() -> dict[str, str]:
    """Describe the plugin for ``msm plugins``."""
    return {
        "description": "surrogate models with uncertainty: scikit-learn Gaussian process, PyTorch deep ensemble",
        "url": "https://scikit-learn.org/stable/modules/gaussian_process.html",
        "citation": "Lakshminarayanan, Pritzel & Blundell, NeurIPS 2017 (deep ensembles); "
                    "Rasmussen & Williams, Gaussian Processes for Machine Learning (2006)",
    }
