"""A labelled claim set for ``rag eval claims``, made from a corpus of abstracts: sentences
taken as they are (label supported) and sentences altered one way each — a number changed,
a negation dropped or added, a direction flipped, a population swapped, a hedge dropped
(labels contradicted / overstated). Seeded, so the same corpus gives the same file.

The alterations are written as an editor would make them (word swaps and insertions on the
sentence's own words), not from the claim check's word lists, so the set tests the check
rather than mirroring it; where the two must share words (antonyms, species) the set says
which swap it made (``alteration``) so a miss can be read.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from rag.core.text import sentence_spans

Alteration = Callable[[str, random.Random], str | None]

_NUMBER = re.compile(r"(?<![\w.\-])(\d+(?:\.\d+)?)(?![\w.]*\d)(?!\.\d)")


def change_number(sentence: str, rng: random.Random) -> str | None:
    """One standalone number replaced by a clearly different one of the same form."""
    found = [m for m in _NUMBER.finditer(sentence)
             if not re.search(r"[A-Za-z]-?$", sentence[:m.start()])]
    if not found:
        return None
    match = rng.choice(found)
    raw = match.group(1)
    value = float(raw)
    decimals = len(raw.split(".")[1]) if "." in raw else 0
    factor = rng.choice([0.5, 0.7, 1.5, 2.0, 3.0])
    new = value * factor + (rng.choice([1, 2, 3]) if value < 2 else 0)
    text = f"{new:.{decimals}f}"
    if float(text) == value or text == raw:
        text = f"{value + 7:.{decimals}f}"
    return sentence[:match.start()] + text + sentence[match.end():]


_DROP_NEGATION = [(r"\bdid not\s+", "did "), (r"\bdoes not\s+", "does "),
                  (r"\bdo not\s+", "do "), (r"\bwas not\b", "was"), (r"\bwere not\b", "were"),
                  (r"\bis not\b", "is"), (r"\bare not\b", "are"), (r"\bhas not\b", "has"),
                  (r"\bhave not\b", "have"), (r"\bcould not\b", "could"),
                  (r"\bno significant\b", "a significant"), (r"\bno difference", "a difference"),
                  (r"\bnot significantly\b", "significantly"), (r"\bnot associated\b",
                                                                 "associated"),
                  (r"(?<!\bor )\bnot\s+", ""), (r"\bno\s+", "")]
_ADD_NEGATION = [(r"\bwas significantly\b", "was not significantly"),
                 (r"\bwere significantly\b", "were not significantly"),
                 (r"\bwas associated\b", "was not associated"),
                 (r"\bwere associated\b", "were not associated"),
                 (r"\bsignificantly (\w+ed)\b", r"did not significantly \1"),
                 (r"\bis (\w+)", r"is not \1"), (r"\bare (\w+)", r"are not \1"),
                 (r"\bwas (\w+)", r"was not \1"), (r"\bwere (\w+)", r"were not \1"),
                 (r"\bcan\b", "cannot"), (r"\bhad (a|an)\b", "had no")]


def flip_negation(sentence: str, rng: random.Random) -> str | None:
    """A negation dropped where the sentence has one, else one added to its verb."""
    for pattern, replacement in _DROP_NEGATION:
        if re.search(pattern, sentence):
            return re.sub(pattern, replacement, sentence, count=1)
    options = [(p, r) for p, r in _ADD_NEGATION if re.search(p, sentence)]
    if not options:
        return None
    pattern, replacement = options[0] if rng.random() < 0.7 else rng.choice(options)
    return re.sub(pattern, replacement, sentence, count=1)


_ANTONYMS = [("increased", "decreased"), ("increase", "decrease"), ("increases", "decreases"),
             ("higher", "lower"), ("greater", "smaller"), ("more", "fewer"),
             ("improved", "worsened"), ("reduced", "increased"), ("reduces", "increases"),
             ("rose", "fell"), ("elevated", "reduced"),
             ("enhanced", "impaired"), ("better", "worse"), ("longer", "shorter"),
             ("larger", "smaller"), ("declined", "rose"), ("lowered", "raised"),
             ("improvement", "deterioration"), ("superior", "inferior")]
_ONE_WAY = [("reduction", "increase"), ("decline", "rise")]


def flip_direction(sentence: str, rng: random.Random) -> str | None:
    """A word of change or comparison swapped for its opposite."""
    pairs = [(a, b) for a, b in _ANTONYMS + [(b, a) for a, b in _ANTONYMS] + _ONE_WAY
             if re.search(rf"\b{a}\b", sentence, re.I)
             and not re.search(rf"\b{a} than \d", sentence, re.I)]
    if not pairs:
        return None
    a, b = rng.choice(pairs)
    return re.sub(rf"\b{a}\b", lambda m: b.capitalize() if m.group()[0].isupper() else b,
                  sentence, count=1, flags=re.I)


_POPULATIONS = [("rats", ["mice", "humans", "dogs"]), ("mice", ["rats", "humans"]),
                ("rat", ["mouse", "human"]), ("mouse", ["rat", "human"]),
                ("children", ["adults", "elderly patients"]), ("adults", ["children"]),
                ("infants", ["adults"]), ("adolescents", ["elderly patients"]),
                ("women", ["men"]), ("men", ["women"]), ("female", ["male"]),
                ("male", ["female"]), ("elderly", ["young"]), ("older", ["younger"]),
                ("in vitro", ["in vivo"]), ("in vivo", ["in vitro"]),
                ("healthy volunteers", ["patients"]), ("dogs", ["cats", "humans"]),
                ("pigs", ["sheep"]), ("rabbits", ["rats"]), ("girls", ["boys"]),
                ("boys", ["girls"]), ("mothers", ["fathers"]), ("pediatric", ["adult"])]


def swap_population(sentence: str, rng: random.Random) -> str | None:
    """Who or what was studied swapped: rats → humans, women → men, in vitro → in vivo."""
    options = [(a, b) for a, bs in _POPULATIONS for b in bs
               if re.search(rf"\b{a}\b", sentence, re.I)]
    if not options:
        return None
    a, b = rng.choice(options)
    return re.sub(rf"\b{a}\b", lambda m: b.capitalize() if m.group()[0].isupper() else b,
                  sentence, count=1, flags=re.I)


_DROP_HEDGE = [(r"\bmay be\b", "is"), (r"\bmight be\b", "is"), (r"\bcould be\b", "is"),
               (r"\bmay\s+", ""), (r"\bmight\s+", ""), (r"\bsuggest that\b", "show that"),
               (r"\bsuggests that\b", "shows that"), (r"\bsuggested that\b", "showed that"),
               (r"\bappears to be\b", "is"), (r"\bappear to be\b", "are"),
               (r"\bseems to\s+", ""), (r"\bpossibly\s+", ""), (r"\bpotentially\s+", ""),
               (r"\bprobably\s+", ""), (r"\blikely\s+", ""), (r"\bpreliminary\s+", "")]


def drop_hedge(sentence: str, rng: random.Random) -> str | None:
    """The sentence stated without its hedge ("may improve" → "improve")."""
    for pattern, replacement in _DROP_HEDGE:
        if re.search(pattern, sentence, re.I):
            return re.sub(pattern, replacement, sentence, count=1, flags=re.I)
    return None


ALTERATIONS: dict[str, tuple[Alteration, str]] = {
    "number": (change_number, "contradicted"),
    "negation": (flip_negation, "contradicted"),
    "direction": (flip_direction, "contradicted"),
    "population": (swap_population, "contradicted"),
    "hedge": (drop_hedge, "overstated"),
}


def make_claims(articles: list[dict[str, Any]], per_kind: int, unaltered: int,
                seed: int = 1) -> list[dict[str, Any]]:
    """Up to ``per_kind`` altered claims of each kind and ``unaltered`` sentences as they
    are, from different sentences of ``articles`` (rows with ``id`` and ``text``)."""
    rng = random.Random(seed)
    sentences = [(a["id"], a["text"][s:e].strip()) for a in articles
                 for s, e in sentence_spans(a["text"]) if 8 <= len(a["text"][s:e].split()) <= 60]
    rng.shuffle(sentences)
    used: set[str] = set()
    rows: list[dict[str, Any]] = []
    for kind, (alter, label) in ALTERATIONS.items():
        made = 0
        for article_id, sentence in sentences:
            if made >= per_kind:
                break
            if sentence in used:
                continue
            altered = alter(sentence, rng)
            if altered and altered != sentence:
                used.add(sentence)
                rows.append({"claim": altered, "article_id": article_id, "label": label,
                             "kind": kind, "source": sentence})
                made += 1
    kept = [s for s in sentences if s[1] not in used][:unaltered]
    rows += [{"claim": s, "article_id": a, "label": "supported", "kind": "unaltered",
              "source": s} for a, s in kept]
    return rows
