"""Two sentences contradict each other on a number with a measured unit, a direction or a
polarity, read both ways; not on who or how many were studied, nor on two denials."""

from __future__ import annotations

import pytest

from rag.disagree import contradiction


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
