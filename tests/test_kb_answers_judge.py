"""The rule that judges knowledge-base answers in eval/kb_answers.py: numbers with units within 1%, yes/no verdicts."""
from __future__ import annotations

from eval.kb_answers import figures_found, judge, kind_of, numbers, numeric_right

CAPEX_Q = "What is the FY2018 capital expenditure amount (in USD millions) for 3M?"
PPE_Q = "What is the year end FY2018 net PPNE for 3M? Answer in USD billions."


def test_numbers_keep_their_units_and_skip_citation_markers_and_codes():
    assert numbers("Capex was $(1,577) [1][2] in FY2018, Q2 and 36.8 % or 5 percent, $8.7 billion, 1.2 mn") == [
        (1577.0, ""), (36.8, "%"), (5.0, "%"), (8.7, "billion"), (1.2, "mn")]


def test_the_reference_decides_the_kind():
    assert kind_of("$1577.00") == kind_of("5.4%") == kind_of("0.68") == "numeric"
    assert kind_of("No the operating margins declined from 36.8%") == "yes/no"
    assert kind_of("Yes, there was a decline of ~42%") == "yes/no"
    assert kind_of("The entertainment segment grew 9%") == "open"
    assert kind_of("Nothing material") == "open"   # "No" must be a whole word


def test_a_number_within_one_percent_in_the_unit_asked_is_right():
    for answer in ("3M spent $1,577 million [1].", "Purchases of PP&E were (1,577) [2].", "$1.577 billion",
                   "about $1.58 billion", "1,570"):
        assert numeric_right(answer, "$1577.00", CAPEX_Q), answer
    for answer in ("1,560 [1]", "$1,600 million", "15.77%", "1.577", "FY2018"):
        assert not numeric_right(answer, "$1577.00", CAPEX_Q), answer
    assert numeric_right("$8,738 million", "$8.70", PPE_Q) and numeric_right("8.74 [3]", "$8.70", PPE_Q)
    assert not numeric_right("8,738", "$8.70", PPE_Q)   # a bare figure copied from a table in millions


def test_a_percent_reference_needs_a_percent_in_the_answer():
    assert numeric_right("The EBITDA margin is 5.4% [1].", "5.4%")
    assert numeric_right("about 5.43 percent", "5.4%")
    assert not numeric_right("The margin is 5.4.", "5.4%")
    assert not numeric_right("5.5%", "5.4%")
    assert not numeric_right("$5.4 million", "5.4%")


def test_judge_yes_no_by_the_first_verdict_and_never_rewards_not_found():
    reference = "No the operating margins of Adobe have recently declined from 36.8% in FY 2021 to 34.6% in FY2022."
    good = judge("No, it declined from 36.8% to 34.6% [1].", reference)
    assert good["kind"] == "yes/no" and good["right"] is True and "figures 2/2" in good["why"]
    assert judge("Yes, it improved [1].", reference)["right"] is False
    assert judge("The margin declined to 34.6% [1].", reference)["right"] is False   # no verdict word
    assert judge("$1,577 million", "$1577.00", CAPEX_Q, not_found=True)["right"] is False
    assert judge("Entertainment", "The entertainment segment grew the most")["right"] is None


def test_reference_figures_leave_years_out():
    reference = "Yes, stores fell by 1.32% from 982 in Q2 FY 2023 to 969 by the end of Q2 FY2024."
    assert figures_found("982 stores then 969 [2], down 1.3%", reference) == (2, 3)
