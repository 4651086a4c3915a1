"""Contract clause analyzer: deterministic segmentation, a rule layer, and model review clause by clause."""
from services.contracts import messages  # noqa: F401  (registers the texts)
from services.contracts.analysis import (ClauseResult, ContractReport, analyse_file, analyse_text,
                                         read_contract)
from services.contracts.roles import CONTRACT_TYPES, ROLES, guess_type, side_for
from services.contracts.segment import Clause, Segmentation, segment_text

__all__ = ["CONTRACT_TYPES", "ROLES", "Clause", "ClauseResult", "ContractReport", "Segmentation", "analyse_file",
           "analyse_text", "guess_type", "read_contract", "segment_text", "side_for"]
