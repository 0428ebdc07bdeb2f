"""Does a sentence say what its source says? The support score (``rag.reading.support``) finds the
source sentences a claim is about; this module compares the two sentences' readings
(``rag.reading.sentences``) for what the score cannot see:

- numbers (with units; 34.7 → 35 and 0.35 ↔ 35 % allowed), and codes such as IL-6;
- polarity: negations and negative findings (not, no, without, failed to, no significant,
  unchanged, similar ↔ did not differ, excluded ↔ not included, hormone-free ↔ without
  hormone), compared clause by clause;
- direction: increased/decreased, higher/lower, improved/worsened… for the same clause;
- population and setting: species, age group, sex, patients vs healthy, in vitro vs in vivo;
- hedges: a claim that drops the source's "may", "suggests", "preliminary" or "in rats".

Each finding has a kind, the status it leads to and a reason in the source's own words ("the
article says “35%”"); ``rag.reading.check`` turns them into one status per claim.
Rules, not a model: no natural-language-inference model ships its weights on PyPI (see
../shared/MODELS.md), and these readings are exact where a small model guesses. A reading
costs well under a millisecond and is cached per sentence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from rag.core.text import STOPWORDS, Quantity, stem
from rag.reading.sentences import (
    ASSERTED_DENIALS,
    COMPATIBLE,
    MODALS,
    NEGATIONS,
    Clause,
    Reading,
    Token,
    all_populations,
    populations,
)

SUPPORTED, CONTRADICTED, OVERSTATED, NOT_FOUND = \
    "supported", "contradicted", "overstated", "not found"


STATUSES = (SUPPORTED, CONTRADICTED, OVERSTATED, NOT_FOUND)


@dataclass
class Finding:
    """Why a claim is not simply supported: its kind, the status it leads to, a reason in
    the source's words."""

    kind: str  # number | code | polarity | direction | population | hedge
    status: str
    reason: str
    unit: str = ""  # of a number finding: the unit both numbers share ("" for none)


def compare(claim: Reading, source: Reading, others: Sequence[Reading] = (),
            context: Sequence[Reading] = ()) -> list[Finding]:
    """What in ``claim`` the ``source`` sentence does not bear out. ``others`` are further
    sentences the claim cites (numbers may come from any of them); ``context`` is the rest
    of the source's article (who or what the study was on)."""
    findings = _numbers(claim, source, others) + _codes(claim, [source, *others, *context])
    findings += _swaps(claim, source)
    cited = [source, *others]
    for clause in claim.clauses:
        unsaid = _unsaid_denial(clause, claim, cited)
        if unsaid:
            findings.append(unsaid)
        match = _aligned(clause, source)
        if match is None:
            continue
        if not unsaid:
            findings += _polarity(clause, match, source)
        findings += _direction(clause, match, source)
        findings += _hedge(match, source, claim)
    findings += _population(claim, source, context)
    return findings


def _swaps(claim: Reading, source: Reading) -> list[Finding]:
    """Words the claim put in place of the source's, read off a word alignment of the two
    sentences: a direction turned round, a population exchanged for another, a negation
    added or dropped, a modal hedge left out (though another hedge stays). Catches what
    clause-level counts cannot see in a sentence that says both ("43 men and 11 women",
    "increased A and reduced B")."""
    ours = [t for c in claim.clauses for t in c.tokens]
    theirs = [t for c in source.clauses for t in c.tokens]
    # "similar" stands for a denied "differ": matched as such, not as "differ". From 200
    # tokens on, difflib treats a token that fills over 1% of the claim as junk: without
    # that a repetitive statement ("- - - …") costs seconds; a prose sentence is shorter.
    matcher = SequenceMatcher(None, [(t.stem, t.negation) for t in theirs],
                              [(t.stem, t.negation) for t in ours])
    # a negation cue only one side has: one that is in both, but elsewhere, was moved
    # ("histologically similar lesions" ← "lesions were histologically similar")
    our_cues = Counter(t.stem for t in ours if t.negation)
    their_cues = Counter(t.stem for t in theirs if t.negation)
    added, dropped = our_cues - their_cues, their_cues - our_cues
    findings: list[Finding] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal" or a2 - a1 > 4 or b2 - b1 > 4:
            continue
        was, now = theirs[a1:a2], ours[b1:b2]
        for old, new in zip(was, now, strict=False):  # a replaced run may differ in length
            if old.direction and new.direction == -old.direction:
                findings.append(Finding("direction", CONTRADICTED, f"the article says "
                                        f"“{_quote(source, old.start, old.end)}”"))
            for category, group in all_populations(old.word):
                rivals = [g for c, g in all_populations(new.word) if c == category]
                if rivals and group not in rivals and \
                        (category, group, rivals[0]) not in COMPATIBLE:
                    findings.append(Finding("population", CONTRADICTED,
                                            f"the article says “{old.word}” where this says "
                                            f"“{new.word}”"))
        if _denials(was, dropped, now, source, claim) % 2 != \
                _denials(now, added, was, claim, source) % 2:
            cue = next((t for t in was if t.negation), was[0] if was else None)
            quote = _quote(source, cue.start, cue.end) if cue else source.text
            findings.append(Finding("polarity", CONTRADICTED,
                                    f"the article says “{quote}”" if any(
                                        t.negation for t in was) else
                                    f"the article says it without the negation: “{quote}”"))
        if any(t.word in MODALS for t in was) and \
                not any(t.word in MODALS for t in now) and claim.modals < source.modals:
            cue = next(t for t in was if t.word in MODALS)
            findings.append(Finding("hedge", OVERSTATED, "the article is more careful: "
                                    f"“{_quote(source, cue.start, cue.end)}”"))
    return findings


def _denials(run: list[Token], unmatched: Counter[str], other: list[Token],
             sentence: Reading, against: Reading) -> int:
    """The negation cues of a run of one sentence that the other sentence lacks. A word that
    carries its own denial ("insufficiency", "unchanged", "similar") counts only where the
    other run says its positive form: a claim that leaves out "with ovarian insufficiency"
    does not deny it. A negation word ("not", "without") counts only where the other
    sentence says something it denies: "plans on unseen tasks without finetuning" does not
    contradict a source that never speaks of finetuning, nor "is not necessary in most
    cases" one that speaks of cases but not of what is necessary."""
    said = {t.stem for t in other}
    return sum(t.negation and t.stem in unmatched and
               (t.stem in said if t.word not in NEGATIONS
                else bool({o.stem for o in sentence.objects[t.start][:2]} & against.stems))
               for t in run)


def _aligned(clause: Clause, source: Reading) -> Clause | None:
    """The source clause saying most of what ``clause`` says (None: none shares half its
    content words)."""
    words = clause.content
    if not words:
        return None
    best = max(source.clauses, key=lambda c: len(words & c.content))
    return best if len(words & best.content) >= max(1, len(words) / 2) else None


def _quote(source: Reading, start: int, end: int, around: int = 6) -> str:
    """The source's words around a span, about ``around`` words either side."""
    left = source.text[:start].split()[-around:]
    right = source.text[end:].split()[:around]
    return " ".join([*left, source.text[start:end], *right]).strip(" ,;")


def _numbers(claim: Reading, source: Reading, others: Sequence[Reading]) -> list[Finding]:
    """Each of the claim's numbers must be one of the source's (each source number vouches
    for one claim number, same unit first), or of another sentence the claim cites; a
    different number of the same unit in the source contradicts it."""
    left = list(source.numbers)
    elsewhere = [q for r in others for q in r.numbers]
    findings = []
    claimed = sorted((q for q in claim.numbers if q.text.lower() != "one"),
                     key=lambda q: not any(q.matches(s) and q.unit == s.unit for s in left))
    for quantity in claimed:
        if _named_by(claim, quantity, [source, *others]):
            continue
        same = [s for s in left if quantity.matches(s)]
        if same:
            left.remove(min(same, key=lambda s: s.unit != quantity.unit))
            continue
        rival = next((s for s in left if s.unit == quantity.unit), None)
        if rival is not None:
            findings.append(Finding("number", CONTRADICTED,
                                    f"the article says “{rival.text}” where this says "
                                    f"“{quantity.text}”", quantity.unit))
        elif not any(quantity.matches(s) for s in elsewhere):
            findings.append(Finding("number", NOT_FOUND,
                                    f"the article does not give “{quantity.text}”"))
    return findings


def _named_by(claim: Reading, quantity: Quantity, sources: list[Reading]) -> bool:
    """Whether a source uses the claim's number as a name with the word before it: the
    claim's "station 9 lymph nodes" is the source's "station 9", not nine lymph nodes."""
    before = claim.text[:quantity.start].split()[-1:]
    if not before or quantity.value != int(quantity.value):
        return False
    name = f"{before[0].lower()} {int(quantity.value)}"
    return any(name in r.codes for r in sources)


def _codes(claim: Reading, sources: list[Reading]) -> list[Finding]:
    known = set().union(*(r.codes.keys() for r in sources)) if sources else set()
    return [Finding("code", NOT_FOUND, f"the article does not mention “{code}”")
            for code in sorted(claim.codes.values()) if code.lower() not in known]


def _unsaid_denial(clause: Clause, claim: Reading, cited: list[Reading]) -> Finding | None:
    """A denial the claim asserts whose object (``Clause.objects``) none of the cited
    sentences speaks of: "X is not necessary in most cases" read against "Y occurs in 1 to
    6% of cases" is neither borne out nor contradicted there, but not found."""
    for cue in clause.tokens:
        if not cue.negation or cue.word not in ASSERTED_DENIALS:
            continue
        objects = claim.objects[cue.start]
        if objects and not any(r.speaks_of(objects) for r in cited):
            return Finding("polarity", NOT_FOUND, "the article does not say "
                           f"“{claim.text[cue.start:objects[-1].end]}” or the opposite")
    return None


def _polarity(clause: Clause, match: Clause, source: Reading) -> list[Finding]:
    if clause.polarity_about(match.content) == match.polarity_about(clause.content) or \
            match.says_both_ways(clause.content) or _looked_for(clause, match):
        return []
    if match.negations:
        cue = match.negations[0]
        return [Finding("polarity", CONTRADICTED,
                        f"the article says “{_quote(source, cue.start, cue.end)}”")]
    return [Finding("polarity", CONTRADICTED, "the article says it without the negation: "
                    f"“{_quote(source, match.start, match.end, 0)}”")]


_SEARCHES = {stem(w) for w in (
    "watch watched watches monitor monitored monitors test tested tests screen screened "
    "look looked looks check checked checks search searched seek sought assess assessed "
    "examine examined").split()}
"""Verbs of looking for something: "watched for X" says X was looked for, not that it was
there."""


_LOOKED_FOR_QUALIFIERS = {stem(w) for w in (
    "possible potential any sign signs evidence presence occurrence").split()}


def _looked_for(clause: Clause, match: Clause) -> bool:
    """Whether the claim affirms what the source denies only as the object of a search
    ("The researchers watched for immune rejection and tumours" against "… ensuring that
    the stem cells did not lead to any immune rejection or tumor formation"): the first
    denied word it says follows a verb of looking for, and looking for a thing does not say
    it was there, so the denial does not contradict it. A claim that denies anything itself
    is read as before."""
    if clause.negations:
        return False
    denied = {w for _, words in match.denials for w in words}
    first = next((i for i, t in enumerate(clause.tokens) if t.stem in denied), None)
    if first is None:
        return False
    before = [t for t in clause.tokens[:first] if t.word.isalnum() and t.word not in STOPWORDS
              and t.stem not in _LOOKED_FOR_QUALIFIERS]
    return bool(before) and before[-1].stem in _SEARCHES


def _direction(clause: Clause, match: Clause, source: Reading) -> list[Finding]:
    """A change the claim turns round: its clause says "up" where the source's says only
    "down", of the same quantity (a word near both: "loss scaling … improving speed" is not
    "reduce the speed")."""
    said = {t.stem: t.direction for t in match.directions}
    if not said:
        return []
    for at, token in enumerate(clause.tokens):
        if not token.direction or said.get(token.stem) == token.direction:
            continue
        if all(d == -token.direction for d in said.values()):
            near = clause.near(at)
            rival = next((t for i, t in enumerate(match.tokens)
                          if t.direction and match.near(i) & near), None)
            if rival is not None:
                return [Finding("direction", CONTRADICTED,
                                f"the article says “{_quote(source, rival.start, rival.end)}”")]
    return []


def _hedge(match: Clause, source: Reading, claim: Reading) -> list[Finding]:
    """A claim with no hedge at all, where the clause it rests on has one that bears on what
    the claim says."""
    said = {t.stem for c in claim.clauses for t in c.tokens
            if t.word.isalnum() and t.word not in STOPWORDS}
    cues = [t for i, t in enumerate(match.tokens) if t.hedge and _bears_on(match, i, said)]
    if cues and not claim.hedged:
        return [Finding("hedge", OVERSTATED, "the article is more careful: "
                        f"“{_quote(source, cues[0].start, cues[0].end)}”")]
    return []


_RELATIVE = {"which", "who", "whose", "that"}


_MODAL_ADJECTIVES = {"potential", "possible", "probable"}


def _bears_on(clause: Clause, at: int, said: set[str]) -> bool:
    """Whether the hedge at token ``at`` qualifies what a claim with the content words
    ``said`` says. A modal qualifies what follows it in its clause, not the words before it
    (the study that reports it, its subject): "A study published in the Journal of X reveals
    how cells may offer a way to restore Y" hedges restoring Y, not where it was published,
    so a claim that says only words said before the modal has dropped nothing; one that
    says anything more ("Vitamin C cures COVID-19" against "IV vitamin C … may be
    feasible") is read against the hedge. A modal that opens a relative clause ("multisets, sets
    which may contain copies") qualifies only that clause: it bears on the claim only where
    the claim says what it governs (its next content word: "a drug that may reduce deaths"
    → "reduces deaths" is still overstated). A modal adjective ("potential adverse effects")
    qualifies the words it stands before (up to three), and bears on a claim that says one
    of them. Other hedges ("suggest", "unclear")
    bear on the whole clause."""
    cue = clause.tokens[at]
    if cue.word not in MODALS:
        return True
    after = [t for t in clause.tokens[at + 1:] if t.word.isalnum() and t.word not in STOPWORDS]
    if cue.word in _MODAL_ADJECTIVES:  # "monitored potential adverse effects": that phrase
        phrase = []
        for t in clause.tokens[at + 1:at + 4]:
            if not t.word.isalnum() or t.word in STOPWORDS:
                break
            phrase.append(t)
        return not phrase or bool(said & {t.stem for t in phrase})
    if at and clause.tokens[at - 1].word in _RELATIVE:
        return not after or after[0].stem in said
    return not after or bool(said - {t.stem for t in clause.tokens[:at]})


def _population(claim: Reading, source: Reading,
                context: list[Reading]) -> list[Finding]:
    said = populations(claim)
    here = populations(source)
    around: dict[str, dict[str, str]] = {}
    for reading in context:
        for category, groups in populations(reading).items():
            for group, word in groups.items():
                around.setdefault(category, {}).setdefault(group, word)
    findings = []
    for category, groups in said.items():
        known = here.get(category) or (around.get(category) if category == "species" else None)
        if not known or set(groups) & set(known) or any(
                (category, a, b) in COMPATIBLE for a in groups for b in known):
            continue
        findings.append(Finding("population", CONTRADICTED,
                                f"the article says “{next(iter(known.values()))}” where this "
                                f"says “{next(iter(groups.values()))}”"))
    animals = [w for g, w in here.get("species", {}).items() if g != "humans"]
    if animals and "species" not in said and not here.get("species", {}).get("humans"):
        findings.append(Finding("hedge", OVERSTATED,
                                f"the article says this was in {animals[0]}"))
    return findings
