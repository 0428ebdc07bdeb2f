"""How one sentence is read for what a topic score cannot see: its words (with negation
cues, hedges and change words marked), its clauses, the numbers and codes it names and the
population it speaks of. ``rag.reading.claims`` compares two such readings; the word lists
live here, beside the tokenizer that marks them, so a reader of either module sees one job.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

from rag.core.text import STOPWORDS, Quantity, listed_names, named_numbers, numbers, stem

_TOKEN = re.compile(r"\w+|[^\w\s]")
_NOT_CONTRACTED = re.compile(r"n['’]t\b", re.I)
_CODE = re.compile(r"\b[A-Za-z]+-?\d+[A-Za-z0-9]*(?:-\d+)?\b")
"""Names with digits: IL-6, Ang1, COVID-19, CD4, H1N1 (not 5mg: that is a number)."""

NEGATIONS = {"no", "not", "never", "none", "neither", "nor", "without", "cannot", "lack",
              "lacks", "lacked", "lacking", "absence", "absent", "unable", "fail", "fails",
              "failed", "failing", "non", "nothing", "nobody"}
_NEGATED_BY_PREFIX = {stem(w) for w in (
    "significant significantly effective effectively changed affected related altered safe "
    "likely common able detectable successful favorable necessary usual "
    "adequate appropriate complete consistent correct dependent sufficient frequent "
    "specific stable feasible acceptable reliable predictable treated controlled resolved "
    "tolerated associated responsive reversible important relevant equal agree "
    "beneficial improved expected").split()}
_PREFIXES = ("non", "un", "in", "im", "ir", "il", "dis")
_DENYING = {**dict.fromkeys(("similar", "comparable", "equivalent", "identical",
                             "indistinguishable"), stem("differ")),
            **dict.fromkeys(("exclude", "excluded", "excludes", "excluding", "omit",
                             "omitted", "omits"), stem("include"))}
"""Words that deny another: said of two things, "similar" reads as "did not differ"; a
study that "excluded" a group "did not include" it."""
_SCOPE_ENDS = {",", ";", ":"}
"""A negation does not reach past these: "NmUR1, but not NmUR2, was expressed" denies
NmUR2, not its expression."""
_PASSED_OVER = {stem(w) for w in (
    "reach reached reaches show showed shown shows demonstrate demonstrated achieve "
    "achieved attain attained statistical statistically").split()}
"""Words a negation passes over to what it denies: "did not reach statistical
significance" denies significance."""
_RELATIONAL = {stem(w) for w in (
    "effect effects affect affects affected impact impacted influence influenced difference "
    "differences differ differed association associated relationship relation correlation "
    "correlated change changes changed benefit role evidence advantage link linked "
    "significant significantly find found").split()}
"""Words a denial passes on to what follows them: "no effect on survival" and "did not
affect survival" speak of survival, as "improved survival" does."""
ASSERTED_DENIALS = {"not", "never", "cannot", "no"}
"""Negations that deny what a sentence asserts ("is not necessary", "had no effect"), as
against "without"/"lack of", which add a detail ("plans on unseen tasks without
finetuning") a source may leave unsaid."""
_CLAUSE_SPLIT = {";", "but", "however", "although", "though", "whereas", "while", "yet",
                 "nevertheless", "instead", "except"}
MODALS = {"may", "might", "could", "possibly", "possible", "potentially", "potential",
           "likely", "unlikely", "perhaps", "probably", "probable", "presumably", "plausibly"}
"""The hedges that qualify the claim itself, as against those that attribute it ("suggest",
"hypothesize", "appear")."""
_HEDGES = MODALS | {
    "suggest", "suggests", "suggested", "suggesting", "suggestive", "appear", "appears",
    "appeared", "seem", "seems", "seemed", "preliminary", "putative", "hypothesize",
    "hypothesized", "speculate", "tentative", "tentatively", "plausible", "pilot", "unclear",
    "uncertain", "unknown", "undetermined", "inconclusive", "controversial", "debated",
    "unproven"}
_UP = {stem(w) for w in (
    "increase increased increases increasing rise rises rose risen rising elevated "
    "elevation higher greater larger longer improve improved improves improvement "
    "enhance enhanced enhances gain gains boost boosted upregulated accelerate accelerated "
    "doubled tripled better superior augmented augment expand expanded exceed exceeded "
    "grow grew growth strengthen strengthened heighten heightened more raised").split()}
_DOWN = {stem(w) for w in (
    "decrease decreased decreases decreasing reduce reduced reduces reducing reduction "
    "decline declined declines fall fell fallen falling drop dropped lower less fewer "
    "smaller shorter diminish diminished attenuate attenuated impair impaired worsen "
    "worsened worse inferior downregulated suppress suppressed inhibit inhibited deplete "
    "depleted loss lost shrink shrank halved weaken weakened slower lessen lessened "
    "alleviate alleviated deterioration deteriorated deteriorate worsening lowered").split()}
_COMPARATIVE_OF_NUMBER = {"more", "less", "fewer", "greater", "higher", "lower"}
"""Before "than" and a number these bound the number ("more than 50"), not a change."""

_POPULATION: dict[str, tuple[str, str]] = {}
for _category, _groups in {
    "species": {
        "humans": "human humans patient patients people person persons participant "
                  "participants volunteer volunteers individuals man men woman women child "
                  "children adult adults",
        "rats": "rat rats", "mice": "mouse mice murine", "hamsters": "hamster hamsters",
        "rabbits": "rabbit rabbits", "dogs": "dog dogs canine", "cats": "cat cats feline",
        "pigs": "pig pigs porcine swine piglet piglets", "sheep": "sheep ewe ewes ovine "
        "lamb lambs", "goats": "goat goats caprine", "cattle": "cow cows cattle bovine calf "
        "calves", "horses": "horse horses equine", "monkeys": "monkey monkeys macaque "
        "macaques primate primates", "chickens": "chicken chickens chick chicks",
        "zebrafish": "zebrafish", "flies": "drosophila fly flies", "yeast": "yeast",
        "bacteria": "bacteria bacterial"},
    "age": {"young": "child children childhood pediatric paediatric infant infants neonate "
                     "neonates neonatal newborn newborns adolescent adolescents adolescence "
                     "boy boys girl girls kid kids toddler toddlers juvenile juveniles young "
                     "younger youth teenager teenagers",
            "adult": "adult adults", "old": "elderly older old aged geriatric senior seniors "
                                            "octogenarians"},
    "sex": {"male": "men man male males boy boys father fathers husbands",
            "female": "women woman female females girl girls mother mothers pregnant "
                      "maternal wives"},
    "health": {"patients": "patient patients", "healthy": "healthy"},
    "setting": {"in vitro": "vitro cultured culture", "in vivo": "vivo"},
}.items():
    for _group, _words in _groups.items():
        for _word in _words.split():
            _POPULATION.setdefault(f"{_category}:{_word}", (_category, _group))
_MATERIAL = {stem(w) for w in (
    "umbilical cord cell cells tissue tissues serum plasma blood placenta placental embryonic "
    "fibroblast fibroblasts stem mesenchymal bone marrow genome gene genes protein proteins "
    "antibody antibodies sample samples specimen specimens milk keratinocytes hepatocytes "
    "neurons organoid organoids xenograft xenografts line lines dna rna recombinant "
    "insulin albumin").split()}
"""Nouns a species word can name the source of ("human umbilical cord cells", "bovine
serum"): the study was not therefore on that species."""
COMPATIBLE = {("age", "adult", "old"), ("age", "old", "adult")}
"""Groups of one category that do not exclude each other (the elderly are adults)."""
_SPECIES_ADJECTIVES = {"human", "murine", "mouse", "rat", "bovine", "porcine", "canine",
                       "feline", "ovine", "caprine", "equine", "chicken", "monkey", "rabbit",
                       "goat", "sheep", "pig", "horse", "hamster", "yeast", "bacterial"}


QUANTITY_REACH = 3
"""How far from a change word ("increased", "loss") the words of what changed are looked for."""


@dataclass(frozen=True)
class Token:
    word: str
    stem: str
    start: int
    end: int
    negation: bool = False  # a negation cue itself (no, not, insignificant, similar…)
    hedge: bool = False
    direction: int = 0  # +1 up, -1 down, 0 none


@dataclass
class Clause:
    tokens: list[Token]
    start: int
    end: int

    @property
    def content(self) -> set[str]:
        """The clause's content words; a word that carries its own denial counts as the
        word it denies ("unchanged" as change), so "remained unchanged" and "did not
        change" are about the same thing."""
        return {t.stem for t in self.tokens
                if t.word not in STOPWORDS and t.word.isalnum() and t.word not in NEGATIONS}

    @property
    def negations(self) -> list[Token]:
        return [t for t in self.tokens if t.negation]

    def negated(self, at: int) -> set[str]:
        """What the negation cue at token ``at`` denies: its own word where it carries one
        ("unchanged", "insignificant", "similar"), else the next two content words (a word
        that carries its own denial among them: "not excluded" denies the exclusion), and
        the first two of each alternative joined to them by "or" or "nor": "did not lead to
        any immune rejection or tumor formation" denies tumours as well."""
        cue = self.tokens[at]
        if cue.word not in NEGATIONS:
            return {cue.stem}
        denied = {t.stem for t in self.scope(at)}
        for i in range(at + 1, len(self.tokens)):
            if self.tokens[i].word in _SCOPE_ENDS:
                break
            if self.tokens[i].word in ("or", "nor"):
                denied |= {t.stem for t in self.scope(i)}
        return denied

    def scope(self, at: int, reach: int = 2) -> list[Token]:
        """The content words a negation word at token ``at`` reaches: the next two, up to a
        comma, past "reach", "show", "statistical"…"""
        after: list[Token] = []
        for t in self.tokens[at + 1:]:
            if t.word in _SCOPE_ENDS or len(after) == reach:
                break
            if t.word.isalnum() and t.word not in STOPWORDS and t.word not in NEGATIONS \
                    and t.stem not in _PASSED_OVER:
                after.append(t)
        return after

    def objects(self, at: int) -> list[Token]:
        """What the negation word at token ``at`` speaks of, for telling whether another
        sentence says it or its opposite at all. A denial of what the sentence asserts is
        about its first word, not what follows it ("is not necessary in most cases"): past
        an adverb or a hedge ("not fully realized", "does not appear to improve"), through
        relational words ("no effect on survival", "did not find evidence of
        acceleration"). "Without X" and "lack of X" reach their whole scope."""
        if self.tokens[at].word not in ASSERTED_DENIALS:
            return self.scope(at)
        out = []
        for t in self.scope(at, reach=len(self.tokens)):
            if t.stem in _RELATIONAL:
                out.append(t)
            elif not t.word.endswith("ly") and not t.hedge:
                return [*out, t]
        return out

    @cached_property
    def denials(self) -> list[tuple[Token, set[str]]]:
        """Each negation cue of the clause with what it denies."""
        return [(t, self.negated(i)) for i, t in enumerate(self.tokens) if t.negation]

    @cached_property
    def affirmed(self) -> set[str]:
        """The words the clause says outside every denial: "there is no baseline …, on large
        camera baselines", "their effectiveness (or ineffectiveness)", "delete unimportant
        words … process important words" each affirm the word as well."""
        said = Counter(t.stem for t in self.tokens if not t.negation)
        for cue, denied in self.denials:
            if cue.word in NEGATIONS:  # it denies words the clause says; "unchanged" its own
                said.subtract(denied)
        return {w for w, n in said.items() if n > 0}

    def says_both_ways(self, words: set[str]) -> bool:
        """Whether the clause denies one of ``words`` and affirms it too ("adoption of one
        group was poorly associated with …, indicating that adoption … is not associated",
        "delete unimportant words … process important words"): a claim that says either
        has not turned it round."""
        return any(denied & words & self.affirmed for _, denied in self.denials)

    def polarity_about(self, words: set[str]) -> int:
        """+1 affirmed, -1 denied, as far as ``words`` go: the parity of the negation cues
        that deny one of them. "did not lead to tumor formation" denies leading to it, not
        looking for it. A word the clause also affirms is not denied by it."""
        cues = sum(1 for _, denied in self.denials if (denied & words) - self.affirmed)
        return -1 if cues % 2 else 1

    @property
    def hedges(self) -> list[Token]:
        return [t for t in self.tokens if t.hedge]

    @property
    def directions(self) -> list[Token]:
        return [t for t in self.tokens if t.direction]

    def near(self, at: int, reach: int = QUANTITY_REACH) -> set[str]:
        """The content words within ``reach`` tokens of token ``at``: what a change word
        there is a change of ("reduced the number of parameters", "serum levels rose")."""
        return {t.stem for t in self.tokens[max(0, at - reach): at + reach + 1]
                if t.word.isalnum() and t.word not in STOPWORDS and not t.direction
                and not t.negation}


@dataclass
class Reading:
    """What a sentence says beyond its topic."""

    text: str
    clauses: list[Clause]
    numbers: list[Quantity]
    codes: dict[str, str]  # lower case -> as written
    population: dict[str, dict[str, str]]  # category -> group -> the word used

    @property
    def hedged(self) -> bool:
        return any(c.hedges for c in self.clauses)

    @property
    def modals(self) -> int:
        """How many times the sentence says "may", "likely", "perhaps"…: a claim with fewer
        than its source dropped one even where another hedge still stands ("suggest that X
        may be" → "suggest that X is"), while "the results suggest that X may" → "X may"
        keeps the claim as careful as it was."""
        return sum(t.word in MODALS for c in self.clauses for t in c.tokens)

    @cached_property
    def stems(self) -> set[str]:
        return {t.stem for c in self.clauses for t in c.tokens}

    @cached_property
    def changes(self) -> bool:
        return any(t.direction for c in self.clauses for t in c.tokens)

    @cached_property
    def relates(self) -> bool:
        return bool(self.stems & _RELATIONAL)

    def speaks_of(self, words: list[Token]) -> bool:
        """Whether the sentence says any of ``words`` or its opposite. Any change word
        answers a change ("did not increase" / "was higher"), any relational word a
        relation ("does not affect the risk" / "was not associated with")."""
        return any(t.stem in self.stems or t.direction and self.changes
                   or t.stem in _RELATIONAL and self.relates for t in words)

    @cached_property
    def objects(self) -> dict[int, list[Token]]:
        """What each negation word speaks of (``Clause.objects``), by its offset."""
        return {t.start: c.objects(i) for c in self.clauses for i, t in enumerate(c.tokens)
                if t.negation and t.word in NEGATIONS}


@lru_cache(maxsize=50_000)
def read(text: str) -> Reading:
    """The reading of one sentence (cached: the same evidence sentences are read for
    every claim checked against them)."""
    tokens = _tokens(text)
    clauses = _clauses(tokens, len(text))
    population: dict[str, dict[str, str]] = {}
    for i, t in enumerate(tokens):
        group = _population_of(tokens, i)
        if group:
            population.setdefault(group[0], {}).setdefault(group[1], t.word)
    codes = {c.lower(): c for c in _CODE.findall(text)}
    for name, _, _ in listed_names(text):
        codes.setdefault(name.lower(), name)
    codes.update((name, name) for name, _, _ in named_numbers(text))
    return Reading(text, clauses, numbers(text), codes, population)


def _tokens(text: str) -> list[Token]:
    text = _NOT_CONTRACTED.sub(lambda m: " " * (len(m.group()) - 2) + "nt", text)  # didn't
    raw = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    out: list[Token] = []
    for i, (surface, start, end) in enumerate(raw):
        word = surface.lower()
        after = [w.lower() for w, _, _ in raw[i + 1: i + 3]]
        before = raw[i - 1][0].lower() if i else ""
        if word == "nt":
            word = "not"
        negation = word in NEGATIONS and not (
            (word == "not" and after[:1] == ["only"]) or (word == "no" and after[:1] == ["."])
            or (word == "not" and before == "or")  # "whether or not"
            or (word == "nor" and any(t.word == "neither" for t in out)))  # one denial
        token_stem = stem(word)
        if word in _DENYING:
            negation, token_stem = True, _DENYING[word]
        elif word == "free" and before == "-" and len(out) > 1 and out[-2].word.isalpha():
            out[-2] = replace(out[-2], negation=True)  # hormone-free: without hormone
        elif not negation and word.startswith(_PREFIXES):
            for prefix in _PREFIXES:
                rest = word[len(prefix):]
                if word.startswith(prefix) and len(rest) > 3 and stem(rest) in _NEGATED_BY_PREFIX:
                    negation, token_stem = True, stem(rest)
                    break
        direction = 0
        if token_stem in _UP or token_stem in _DOWN:
            bounds_number = word in _COMPARATIVE_OF_NUMBER and after[:1] == ["than"] and \
                len(after) > 1 and after[1][:1].isdigit()
            direction = 0 if bounds_number else (1 if token_stem in _UP else -1)
        elif token_stem == stem("regulated") and before in ("up", "down"):
            direction = 1 if before == "up" else -1
        out.append(Token(word, token_stem, start, end, negation, word in _HEDGES, direction))
    return out


def _clauses(tokens: list[Token], length: int) -> list[Clause]:
    """The sentence cut at clause boundaries ("; but", "whereas", ", while"…): polarity and
    direction are compared between the clauses that say the same thing."""
    clauses, current = [], []
    for i, t in enumerate(tokens):
        comma_split = t.word == "," and i + 1 < len(tokens) and tokens[i + 1].word in (
            "but", "whereas", "while", "although", "though", "yet", "which", "however",
            "except", "unlike")
        if (t.word in _CLAUSE_SPLIT or comma_split) and current:
            clauses.append(current)
            current = []
        current.append(t)
    if current:
        clauses.append(current)
    return [Clause(c, c[0].start, c[-1].end) for c in clauses] or [Clause([], 0, length)]


def _population_of(tokens: list[Token], i: int) -> tuple[str, str] | None:
    word = tokens[i].word
    before = tokens[i - 1].word if i else ""
    after = tokens[i + 1].word if i + 1 < len(tokens) else ""
    if before == "non" or (before == "-" and i > 1 and tokens[i - 2].word == "non"):
        return None  # non-human primates
    if word == "aged" and after[:1].isdigit():
        return None  # "aged 12 years" gives an age, not the elderly
    if word in ("vitro", "vivo") and before != "in":
        return None
    if word in _SPECIES_ADJECTIVES and stem(after) in _MATERIAL:
        return None  # human umbilical cord mesenchymal stem cells: where cells came from
    if after == "-" and i + 2 < len(tokens) and tokens[i + 2].word == "derived":
        return None  # patient-derived virus, human-derived cells: where it came from
    for category in ("species", "age", "sex", "health", "setting"):
        group = _POPULATION.get(f"{category}:{word}")
        if group:
            return group
    return None


def all_populations(word: str) -> list[tuple[str, str]]:
    return [_POPULATION[f"{c}:{word}"] for c in ("species", "age", "sex", "health", "setting")
            if f"{c}:{word}" in _POPULATION]


def populations(reading: Reading) -> dict[str, dict[str, str]]:
    """Every category a sentence's population words belong to (a word such as "women" is
    a species, a sex and, with "girls", an age at once)."""
    out: dict[str, dict[str, str]] = {}
    tokens = [t for c in reading.clauses for t in c.tokens]
    for i, t in enumerate(tokens):
        if _population_of(tokens, i) is None:
            continue
        for category, group in all_populations(t.word):
            out.setdefault(category, {}).setdefault(group, t.word)
    return out


def species(reading: Reading) -> set[str]:
    """The species a sentence names ("humans" for women, patients, people; "rats"…)."""
    return set(populations(reading).get("species", {}))
