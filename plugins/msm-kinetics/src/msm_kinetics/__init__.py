"""msm-kinetics: mass-action reaction networks as msmcore components."""

from msm_kinetics.antimony_subset import Reaction, ReactionModel, parse_model
from msm_kinetics.network import Network

__all__ = ["Network", "Reaction", "ReactionModel", "parse_model"]
