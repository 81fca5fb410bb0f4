"""TARA's API types: the single source of truth for both custom resources.

Everything that speaks ``DomainTraining`` or ``GGUFPhase`` (the CRDs in ``crds/``, the
reference docs, ``tara validate``, the operator, the trainer and the router) reads these
pydantic models. This package imports nothing else from TARA and talks to no API.
"""

from tara_api.domaintraining import DomainTraining, DomainTrainingSpec, DomainTrainingStatus
from tara_api.ggufphase import GGUFPhase, GGUFPhaseSpec, GGUFPhaseStatus
from tara_api.meta import API_VERSION, GROUP, VERSION
from tara_api.quant import QUANT_TYPES, QuantType

__all__ = [
    "API_VERSION",
    "GROUP",
    "VERSION",
    "DomainTraining",
    "DomainTrainingSpec",
    "DomainTrainingStatus",
    "GGUFPhase",
    "GGUFPhaseSpec",
    "GGUFPhaseStatus",
    "QUANT_TYPES",
    "QuantType",
]
