"""msm-template: an msmcore solver plugin."""

from msm_template.decay import Decay

__all__ = ["Decay"]
