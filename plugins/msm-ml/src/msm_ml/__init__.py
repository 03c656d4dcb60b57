"""msm-ml: surrogate models with uncertainty for msmcore's micro ensembles (``ml.gp``, ``ml.ensemble``)."""

from __future__ import annotations

__all__ = ["DeepEnsemble", "GaussianProcess"]


def __getattr__(name: str) -> object:
    # scikit-learn and torch are heavy: import each only when its model is asked for.
    if name == "GaussianProcess":
        from msm_ml.gp import GaussianProcess

        return GaussianProcess
    if name == "DeepEnsemble":
        from msm_ml.deep_ensemble import DeepEnsemble

        return DeepEnsemble
    raise AttributeError(f"module 'msm_ml' has no attribute {name!r}")
