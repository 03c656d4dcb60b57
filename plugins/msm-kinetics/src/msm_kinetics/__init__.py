"""msm-kinetics: reaction networks (Antimony, SBML) as msmcore components."""

from msm_kinetics.antimony_subset import Reaction, ReactionModel, parse_model
from msm_kinetics.model import KineticModel
from msm_kinetics.network import Network
from msm_kinetics.sources import read_model

__all__ = ["KineticModel", "Network", "Reaction", "ReactionModel", "parse_model", "read_model"]
