"""What a claim says of a study as a whole, read against the whole article rather than the
sentences a support score picks (a short claim shares too few words with the sentence that
matters): who the study was on, and whether it says people are treated or cared for where
the study's findings are all in animals. ``rag.reading.check`` and the verdicts use it.
"""

from __future__ import annotations

import re

from rag.core.text import STOPWORDS, stem
from rag.reading.roles import paragraph_of, role
from rag.reading.sentences import (
    populations,
    read,
    species,
)
from rag.reading.support import Evidence

HUMAN_USE = re.compile(r"\b(clinical(ly)?|clinics?|doctors?|physicians?|hospitals?|bedside)\b",
                        re.I)
"""Words that put a question in people's care even where it names no people."""


def animal_finding(statement: str, evidence: list[Evidence]) -> int | None:
    """The finding that places the study in animals (its index), where the statement is
    about people or clinical use and no finding stated without a hedge is about people: a
    result in rats does not yet answer a question about women. None otherwise."""
    asked = species(read(statement))
    if not (asked == {"humans"} or (not asked and HUMAN_USE.search(statement))):
        return None
    animal = None
    for i, e in enumerate(evidence):
        if role(e.text, paragraph_of(e)) not in ("finding", "conclusion"):
            continue
        reading = read(e.text)
        if reading.hedged:
            continue
        named = species(reading)
        if "humans" in named:
            return None
        if named and animal is None:
            animal = i
    return animal


_NOT_YET = re.compile(r"\b(needs?|needed|further|future|before|until|once|yet|remains?|"
                      r"hurdles?)\b", re.I)
"""Words that put a claim's use in people off to later ("needed before it can be used in
patients"): such a claim agrees with a study in animals."""


_CARE = re.compile(r"\b(therap\w*|treat\w*|drugs?|medicines?|cures?|cured|uses?|used|using|"
                   r"prescri\w*|vaccin\w*|surger\w*)\b|" + HUMAN_USE.pattern, re.I)
"""Words of care, and of people's care (``HUMAN_USE``): a claim about people that says none
of them ("a person can catch the virus from a surface") is not about treating people."""


def _the_study(evidence: list[Evidence]) -> list[int]:
    """The indexes of the sentences of the study a claim is about: the article of the first
    evidence sentence (the best-retrieved passage's)."""
    article = evidence[0].hit.chunk.article_id
    return [i for i, e in enumerate(evidence) if e.hit.chunk.article_id == article]


def people_from_animals(claim: str, evidence: list[Evidence]) -> int | None:
    """The finding that places the study in animals (its index in ``evidence``), where the
    claim says plainly, without a hedge, a denial or a "not yet", that people are treated
    or cared for (a word of care, ``_CARE``: "Doctors can already use this therapy on
    women" of a study in rats), and the study it is about (the article of the first
    evidence sentence: the best-retrieved passage's) has no finding about people stated
    without a hedge. None otherwise."""
    reading = read(claim)
    if not evidence or reading.hedged or any(c.negations for c in reading.clauses) \
            or _NOT_YET.search(claim) or not _CARE.search(claim):
        return None
    same = _the_study(evidence)
    found = animal_finding(claim, [evidence[i] for i in same])
    return None if found is None else same[found]


_STUDY_WORDS = {stem(w) for w in (
    "study studies studied experiment experiments experimental research trial trials work "
    "test tests tested done conducted performed carried out model models used use using "
    "researchers scientists team investigators authors").split()}
"""Words a claim uses to speak of the study itself ("The experiments were done in rats")."""


def who_was_studied(claim: str, evidence: list[Evidence]) -> tuple[int, bool] | None:
    """Where a claim says only who or what the study was on ("The study was done in
    mice"): the finding, method or conclusion of the study it is about (the article of the
    first evidence sentence: the best-retrieved passage's) that names a species without a
    hedge (its index), and whether that species is the claim's. One that names the claim's
    bears it out; else the first that names others contradicts it. None for any other
    claim, or where the article names no species plainly."""
    reading = read(claim)
    asked = species(reading)
    named = {w for groups in populations(reading).values() for w in groups.values()}
    content = {t.stem for c in reading.clauses for t in c.tokens
               if t.word.isalnum() and t.word not in STOPWORDS and t.word not in named}
    if not evidence or not asked or not content <= _STUDY_WORDS \
            or any(c.negations for c in reading.clauses) or reading.hedged:
        return None
    found = [(i, species(read(evidence[i].text))) for i in _the_study(evidence)
             if not read(evidence[i].text).hedged
             and role(evidence[i].text, paragraph_of(evidence[i])) in (
                 "finding", "method", "conclusion")]
    found = [(i, named) for i, named in found if named]
    if not found:
        return None
    same = next((i for i, named in found if named & asked), None)
    return (same, True) if same is not None else (found[0][0], False)
