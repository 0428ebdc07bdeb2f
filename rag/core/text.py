"""Words, stems, numbers and sentences: the one place text is split, so BM25, support scores,
the claim check, digests and near-duplicate shingles all see the same words.

- ``words``: lower-case word tokens; ``terms``: the content words BM25 counts and support
  compares (stop words out, British spellings made American, Snowball stems), so "tumour"
  and "tumors", "randomised" and "randomized" are one term.
- ``numbers``: the quantities a sentence states (digits, thousands separators, decimals,
  ranges, ±, percent and other units, number words), so a claim's numbers can be compared
  with its source's.
- ``sentence_spans``: sentence boundaries (blingfire; a line break always ends one).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache

import blingfire
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS
from breame.data.spelling_constants import BRITISH_ENGLISH_SPELLINGS
from text_to_num import text2num

Span = tuple[int, int]
WORD = re.compile(r"\w+")
STOPWORDS = frozenset(STOPWORDS_EN_PLUS)
_STEMMER = Stemmer.Stemmer("english")
_PARAGRAPH = re.compile(r"[^\n]+")
# breame's list is general English; medical spellings it lacks, as the same word pairs
_MORE_BRITISH = {"oedema": "edema", "ischaemia": "ischemia", "ischaemic": "ischemic",
                 "coeliac": "celiac", "dyspnoea": "dyspnea", "apnoea": "apnea",
                 "oesophageal": "esophageal", "haemodialysis": "hemodialysis",
                 "leucocyte": "leukocyte", "leucocytes": "leukocytes", "haematoma": "hematoma",
                 "oestradiol": "estradiol", "randomisation": "randomization",
                 "haematological": "hematological", "haemodynamic": "hemodynamic",
                 "haemodynamics": "hemodynamics", "hyperaemia": "hyperemia",
                 "septicaemia": "septicemia", "hypoxaemia": "hypoxemia",
                 "glycaemic": "glycemic", "hypoglycaemia": "hypoglycemia",
                 "hyperglycaemia": "hyperglycemia", "anaesthetic": "anesthetic",
                 "paediatrician": "pediatrician", "orthopaedics": "orthopedics"}


def words(text: str) -> list[str]:
    """Lower-case word tokens, in order."""
    return WORD.findall(text.lower())


def american(word: str) -> str:
    """The American spelling of a lower-case British word; other words unchanged."""
    return _MORE_BRITISH.get(word) or BRITISH_ENGLISH_SPELLINGS.get(word, word)


def american_text(text: str) -> str:
    """``text`` with British spellings made American, case kept ("Tumour" → "Tumor"): what
    the embedder reads of a question, so a reader's spelling does not move its vector."""
    def swap(match: re.Match[str]) -> str:
        word = match.group()
        spelt = american(word.lower())
        if spelt == word.lower():
            return word
        return spelt.upper() if word.isupper() else spelt.capitalize() if word[0].isupper() \
            else spelt

    return re.sub(r"[A-Za-z]+", swap, text)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A lower-case word's Snowball stem after spelling normalisation (cached: the same few
    thousand words recur in every sentence)."""
    return _STEMMER.stemWord(american(word))


def terms(text: str) -> list[str]:
    """Content words of ``text`` as stems, in order, repeats kept (BM25 counts them)."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1]


def content_words(text: str) -> set[str]:
    return set(terms(text))


def keyword_terms(texts: list[str]) -> list[list[str]]:
    """The terms BM25 indexes and searches, for the local bm25s index and for Milvus's
    built-in BM25 alike (Milvus Lite ignores its analyzers' stemmer filters: measured,
    "fertilizer" did not find "fertilizers"; so Milvus is given these terms, not text)."""
    return [terms(text) for text in texts]


MAX_SENTENCE_CHARS = 1000
"""The longest span that counts as one sentence. Every quoted span (a citation, a verdict's
reason, a summary's source) and every chunk is made of sentences, so this bounds them all in
characters as well as in tokens: a word-piece tokenizer reads a million-digit "word" as one
token, so a token limit alone lets a hostile article put megabytes in one passage. Prose
never comes near it (the longest of 9,812 PubMedQA abstract sentences is 627 characters)."""


_TOKENISED_STOP = re.compile(r"(?<=[^\s.]) \.(?=\s+[a-z])")
"""A full stop standing alone between spaces before a lower-case word: the end of a sentence
in text exported tokenised and lower-cased by NLP tools ("… for decades . the film …"),
which a sentence splitter reading capitals does not see. Prose never sets a stop apart;
an ellipsis (". . .") is left alone."""

_LOWERED_STOP = re.compile(r"([^\s.]*[a-z0-9)'\"%])\.(?=\s+[a-z])")
_TITLE_WORD = re.compile(r"\b[A-Z][a-z]")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st mt sen rep gov gen col lt sgt rev jr sr vs etc inc ltd co corp no "
    "nos fig figs approx al ca cf jan feb mar apr jun jul aug sep sept oct nov dec".split())
"""Words a stop follows without ending a sentence, in text with no capitals to tell."""


def sentence_spans(text: str) -> list[Span]:
    """Sentence spans in ``text``; a line break always ends a sentence (headings, list items),
    so does a stop set apart by spaces (``_TOKENISED_STOP``) and, in a paragraph written all
    in lower case, a stop before a lower-case word after anything but an abbreviation
    (``_lowered_stops``); a run longer than ``MAX_SENTENCE_CHARS`` comes as pieces of at
    most that length."""
    spans: list[Span] = []
    for para in _PARAGRAPH.finditer(text):
        if not para.group().strip():
            continue
        lowered = _TITLE_WORD.search(para.group()) is None
        _, offsets = blingfire.text_to_sentences_and_offsets(para.group())
        for a, b in offsets:
            start, end = para.start() + a, para.start() + b
            cuts = [m.end() for m in _TOKENISED_STOP.finditer(text, start, end)]
            if lowered:
                cuts = sorted({*cuts, *_lowered_stops(text, start, end)})
            for piece_start, piece_end in _pieces(text, start, end, cuts):
                spans.extend(bounded_pieces(text, piece_start, piece_end, MAX_SENTENCE_CHARS))
    return spans


def _lowered_stops(text: str, start: int, end: int) -> list[int]:
    """Where sentences end in lower-cased text ("… 4g network. apple's lawyers …"): after
    a stop attached to a word and followed by a lower-case word, unless the word is an
    abbreviation, a single letter or has stops of its own ("u.s.", "e.g.")."""
    cuts = []
    for m in _LOWERED_STOP.finditer(text, start, end):
        word = m.group(1).lstrip("(\"'")
        single_letter = len(word) == 1 and word.isalpha()
        if not single_letter and text[m.start() - 1:m.start()] != "." \
                and word not in _ABBREVIATIONS:
            cuts.append(m.end())
    return cuts


def _pieces(text: str, start: int, end: int, cuts: list[int]) -> list[Span]:
    """The span ``start``–``end`` cut at ``cuts``; each piece trimmed of the spaces before
    it (none is empty)."""
    pieces: list[Span] = []
    for a, b in zip([start, *cuts], [*cuts, end], strict=True):
        while a < b and text[a].isspace():
            a += 1
        if b > a:
            pieces.append((a, b))
    return pieces


def bounded_pieces(text: str, start: int, end: int, limit: int) -> list[Span]:
    """``text[start:end]`` as consecutive spans of at most ``limit`` characters, each cut
    after the last space that leaves it over half full (else at ``limit``), none starting or
    ending with a space."""
    pieces: list[Span] = []
    while end - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit + 1)
        cut = cut if cut > start else start + limit
        pieces.append((start, len(text[start:cut].rstrip()) + start))
        start = cut
        while start < end and text[start] == " ":
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces


TRAILING_CLAUSE = re.compile(
    r",\s+(?=(?:which|while|whereas|thereby|thus|including|such as|[a-z]+ing)\b)")
"""Where a sentence's trailing clause begins: a comma, then a participle ("…, making it
flexible", "…, demonstrating gains") or a relative or listing word ("…, which…",
"…, including…")."""


_TRAILING_DETAIL = re.compile(rf"{TRAILING_CLAUSE.pattern}|,\s+(?=with\b)|\s+(?=(?:by|while)\s)")
"""Where a detail that can go begins: a trailing clause, a ", with …" phrase, a "by …"
(how, or how much) or "while …" phrase. Not "unless", "except", "only", "if" or "in …":
cutting those would widen the claim rather than shorten it."""
TRIMMED_WORDS = 5


def trimmings(sentence: str) -> list[str]:
    """``sentence`` cut before each detail that can go (``_TRAILING_DETAIL``), longest
    first, each ended with a full stop; only cuts that leave at least ``TRIMMED_WORDS``
    words and do not end on a function word ("…, finding that while …" is no cut)."""
    out = []
    for match in reversed(list(_TRAILING_DETAIL.finditer(sentence))):
        head = sentence[:match.start()].rstrip(" ,;:")
        last = words(head)[-1:] or [""]
        if len(head.split()) >= TRIMMED_WORDS and last[0] not in STOPWORDS:
            out.append(head + ".")
    return out


@dataclass(frozen=True)
class Quantity:
    """A number a sentence states: its value, the unit after it (a stem; ``%`` for percent,
    "" when none), and where it stands in the sentence."""

    value: float
    unit: str
    text: str
    start: int
    end: int
    decimals: int = 0

    def matches(self, source: Quantity) -> bool:
        """Whether this (a claim's) number states ``source``'s amount: equal, rounded by the
        claim (34.7 → 35), or a proportion written as a percentage (0.35 ↔ 35 %). A
        percentage is never the same number of something: "85%" is not "85 patients"."""
        pairs = [(self.value, source.value)]
        if (self.unit == "%") != (source.unit == "%"):
            scaled = [(self.value, source.value * 100), (self.value * 100, source.value)]
            pairs = pairs + scaled if {self.unit, source.unit} == {"%", ""} else scaled
        return any(abs(a - b) < 1e-9 or round(b, self.decimals) == a for a, b in pairs)


_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
                      "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
                      "million": 10**6, "billion": 10**9,
                      "dozen": 12, "twice": 2, "half": 0.5, "threefold": 3, "twofold": 2})
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_ONES = "one|two|three|four|five|six|seven|eight|nine"
_NUMBER_WORD = (rf"(?:{_TENS})[-‐–](?:{_ONES})|"  # thirty-seven
                + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)))
_PERCENT = {"%", "percent", "per cent", "percentage"}
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-−–](?=\d))?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d*\.\d+|\d+)"
    # a run of number words ("two hundred and five"): one number if it reads as one
    rf"|(?<![\w-])(?P<word>(?:{_NUMBER_WORD})(?:(?:\s+and\s+|\s+)(?:{_NUMBER_WORD}))*)\b",
    re.I)
_ONE_NUMBER_WORD = re.compile(rf"(?:{_NUMBER_WORD})\b", re.I)
_UNIT = re.compile(r"\s*(?:(%|per ?cent\b)|-?\s?([A-Za-zµμ][A-Za-z/µμ²³]*))")
_CODE_BEFORE = re.compile(r"[A-Za-z][-/]?$")  # IL-6, COVID-19, Ang1, T2
_CODE_LIST = re.compile(r"\b([A-Za-z]+-?)(\d+(?:/\d+)+)\b")  # Ang1/2, IL-6/8
_CAPITAL_AFTER = re.compile(r"[A-Z](?![A-Za-z])")  # 3D, 2D, 5G: names, not 3 or 2 of a thing
_JOINS = re.compile(r"\s*(?:[-–—±]|\+/-|to|and|or)\s*", re.I)
_NAMED = re.compile(r"(?<![\w-])(?P<name>[A-Za-z][A-Za-z-]{2,})\s+(?P<first>\d{1,2})"
                    r"(?P<more>(?:\s*(?:/|,|&|and|or)\s*\d{1,2}(?!\d)(?![.,]\d))*)"
                    r"(?!\d)(?![.,]\d)(?![A-Za-z])")
_NUMBER_AFTER = frozenset(
    "approximately nearly almost around roughly only least most exactly over under total "
    "mean median average just another additional further first last top respectively versus "
    "vs equal equals reached exceeded aged age ages range ranged ranging".split())
"""Words a count or measure follows ("nearly 30"): the number after them is a quantity."""


_NAMING = frozenset(
    "type phase grade stage class group arm cohort day week month visit step level category "
    "tier chromosome trisomy exon intron domain lead".split())
"""Words whose number names one of a series even with a noun after it ("type 2 diabetes")."""


def named_numbers(text: str) -> list[tuple[str, int, int]]:
    """Numbers that name, not count: "angiopoietin 1 and 2", "type 2", "phase 3", "week 12"
    (a word, then small whole numbers with no unit after them). Each comes back as the
    name it makes ("angiopoietin 2", lower case) with the span of its number, so a claim
    "angiopoietin 1/2" names the same two things as an article's "angiopoietin 1 and 2"."""
    out = []
    for match in _NAMED.finditer(text):
        name = match.group("name").lower()
        listed = bool(match.group("more"))  # "angiopoietin 1/2 rebalance": names, not counts
        if name in STOPWORDS or name in _NUMBER_WORDS or name in _NUMBER_AFTER or not (
                listed or name in _NAMING or not _unit_after(text, match.end())[0]):
            continue
        for number in re.finditer(r"\d+", text[match.start("first"):match.end()]):
            start = match.start("first") + number.start()
            out.append((f"{name} {int(number.group())}", start, start + len(number.group())))
    return out


def listed_names(text: str) -> list[tuple[str, int, int]]:
    """Names listed with a slash: "Ang1/2" names Ang1 and Ang2, each with the span of its
    number. A list names each thing once, so the second 1 of "BRCA1/1" is no name: it
    stays a number, and a claim that changes a listed number still differs."""
    out = []
    for match in _CODE_LIST.finditer(text):
        prefix, seen = match.group(1), set()
        for number in re.finditer(r"\d+", match.group(2)):
            if number.group() not in seen:
                seen.add(number.group())
                start = match.start(2) + number.start()
                out.append((prefix + number.group(), start, start + len(number.group())))
    return out


def numbers(text: str) -> list[Quantity]:
    """The quantities stated in ``text``: numerals (1,234; 0.35; .05; −2), ranges and ±
    give each of their numbers, number words (two, twenty, twice). Numbers that are part of
    a name or code (IL-6, COVID-19, Ang1, angiopoietin 2, type 2, 3D) are left out: they are
    words, compared as words."""
    out: list[Quantity] = []
    names = {start for _, start, _ in named_numbers(text) + listed_names(text)}
    found: list[tuple[int, int, float, int]] = []  # start, end, value, decimals
    for match in _NUMBER.finditer(text):
        if match.start() in names:
            continue
        if match.group("word"):
            found += _worded(match)
        elif _CODE_BEFORE.search(text[max(0, match.start() - 2):match.start()]) or \
                _CAPITAL_AFTER.match(text, match.end()):
            continue
        else:
            raw = match.group("num").replace(",", "")
            value = float(raw) * (-1 if match.group("sign") else 1)
            if math.isfinite(value):  # a run of 400 digits is no quantity
                found.append((match.start(), match.end(), value,
                              len(raw.split(".")[1]) if "." in raw else 0))
    for start, number_end, value, decimals in found:
        unit, end = _unit_after(text, number_end)
        quantity = Quantity(value, unit, text[start:end].strip(), start, end, decimals)
        if out and not out[-1].unit and _JOINS.fullmatch(text[out[-1].end:start]):
            out[-1] = replace(out[-1], unit=unit)  # 12-20 years, 5.2 ± 1.3 mg: one unit
        out.append(quantity)
    return out


def _worded(match: re.Match[str]) -> list[tuple[int, int, float, int]]:
    """The numbers a run of number words says, with their spans: one where the run reads as
    one number (text2num: "two hundred and five" is 205, "one thousand five hundred" 1500),
    else one per word, as a list says them ("two and three", "one or two", "twice")."""
    run = match.group("word")
    if len(run.split()) > 1:
        try:
            return [(match.start(), match.end(), float(text2num(run.lower(), "en")), 0)]
        except ValueError:
            pass
    return [(match.start() + w.start(), match.start() + w.end(),
             float(sum(_NUMBER_WORDS[part] for part in re.split("[-‐–]", w.group().lower()))), 0)
            for w in _ONE_NUMBER_WORD.finditer(run)]


def _unit_after(text: str, at: int) -> tuple[str, int]:
    """The unit right after a number (as a stem, ``%`` for percent) and where it ends."""
    match = _UNIT.match(text, at)
    if not match:
        return "", at
    if match.group(1):
        return "%", match.end()
    word = match.group(2).lower()
    if word in STOPWORDS or word in _NUMBER_WORDS or word in ("to", "and", "or"):
        return "", at
    return stem(word), match.end()
