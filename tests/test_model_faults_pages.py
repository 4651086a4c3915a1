"""Model faults on the batch and data pages (financials, contracts, ChatBI, minutes): the same matrix as
test_model_faults.py, plus the services' own promise that finished parts of a batch survive a fault."""
from __future__ import annotations

import pytest

from tests.test_model_faults import cases, model_env, run_case, stub  # noqa: F401 - fixtures


@pytest.mark.parametrize("page_name, fault", cases(["financials", "contracts", "chatbi", "minutes"]))
def test_model_fault(page_name, fault, stub, tmp_path):  # noqa: F811
    run_case(page_name, fault, stub, tmp_path)
