"""Two sentences contradict each other on a number with a measured unit, a direction or a
polarity, read both ways; not on who or how many were studied, nor on two denials."""

from __future__ import annotations

import numpy as np
import pytest

from rag.core.types import Hit
from rag.reading.disagree import REWORDED_POINT, SAME_POINT, contradiction, find_disagreements
from tests.fakes import ScriptedVerifier


@pytest.mark.parametrize(("a", "b", "kind"), [
    ("Systolic blood pressure fell by 9 mmHg in the walking group.",
     "Systolic blood pressure fell by 3 mmHg in the walking group.", "number"),
    ("Mortality was 12% in the treated group.", "Mortality was 21% in the treated group.",
     "number"),
    ("The drug increased bone density in older women.",
     "The drug decreased bone density in older women.", "direction"),
    ("Coffee increased bone density in older women.",
     "Coffee did not change bone density in older women.", "polarity"),
    # agreeing, or different in what is not a finding's content
    ("Systolic blood pressure fell by 9 mmHg in the walking group.",
     "In the walking group systolic blood pressure fell by 9 mmHg.", ""),
    ("The trial enrolled 240 patients with hypertension.",
     "The trial enrolled 180 patients with hypertension.", ""),
    ("We found no significant correlation between BMI and autoCPAP pressure.",
     "Neither BMI nor neck circumference is predictive of autoCPAP pressure.", ""),
    ("Walking lowered blood pressure in rats.", "Walking lowered blood pressure in humans.", ""),
])
def test_what_counts_as_a_contradiction(a: str, b: str, kind: str):
    assert contradiction(a, b) == contradiction(b, a) == kind


class _OtherWords:
    """Support as two reports of one measure in other words give each other: under
    ``SAME_POINT``, over ``REWORDED_POINT`` (a sentence fully supports itself)."""

    def scores(self, claims: list[str], evidence: list) -> np.ndarray:
        return np.array([[1.0 if c == e.text else 0.6 for e in evidence] for c in claims],
                        dtype=np.float32)


TRIAL = ("After six months, systolic blood pressure fell by 9 mmHg in the walking group, "
         "compared with 2 mmHg in the control group.")
REANALYSIS = ("Once missed visits were accounted for, the walkers' systolic pressure dropped "
              "only 3 mmHg over the six months, no more than the controls saw.")


def test_reports_in_other_words_disagree_where_the_reader_confirms_it_both_ways():
    hits = [Hit.whole("trial", TRIAL, ""), Hit.whole("reanalysis", REANALYSIS, "")]
    question = "How much did systolic blood pressure fall with walking?"
    assert find_disagreements(question, hits, _OtherWords()) == []  # the rules alone
    assert REWORDED_POINT < 0.6 < SAME_POINT
    both = ScriptedVerifier({TRIAL: (0.0, 0.9, 0.1), REANALYSIS: (0.0, 0.9, 0.1)},
                            {"contradicts_at": 0.8})
    (found,) = find_disagreements(question, hits, _OtherWords(), lambda: both)
    assert found.kind == "number" and {found.a.article_id, found.b.article_id} == {
        "trial", "reanalysis"}
    one_way = ScriptedVerifier({REANALYSIS: (0.0, 0.9, 0.1)}, {"contradicts_at": 0.8})
    assert find_disagreements(question, hits, _OtherWords(), lambda: one_way) == []
    assert find_disagreements(question, hits, _OtherWords(), lambda: None) == []
