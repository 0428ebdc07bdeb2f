"""The core data of the pipeline, as plain dataclasses.

Provenance travels with the data: a Chunk knows its article and its exact character span,
and a Hit is built from a Chunk, so anything shown to a user can be traced back to the text.
This module imports nothing from the project.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MIN_ARTICLES, MAX_ARTICLES = 2, 6
"""How many articles a comparison takes: two to differ, at most six to fit one table."""


@dataclass
class Article:
    """One article: its body text (metadata lines stripped) and what we know about it."""

    id: str
    text: str
    title: str = ""
    authors: list[str] = field(default_factory=list)
    date: str = ""
    source: str = ""
    url: str = ""
    doi: str = ""
    keywords: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Filters:
    """Restrict a search to some articles and/or a date range (ISO date prefixes)."""

    article_ids: list[str] | None = None
    date_from: str = ""
    date_to: str = ""

    @property
    def active(self) -> bool:
        return bool(self.article_ids or self.date_from or self.date_to)


@dataclass
class Chunk:
    """A window of an article's text. Invariant: ``article.text[start:end] == text``."""

    article_id: str
    start: int
    end: int
    text: str
    id: int = -1  # assigned by the store; also the FAISS id


@dataclass
class Hit:
    """A retrieved chunk with its fused score and the per-retriever scores behind it."""

    chunk: Chunk
    title: str
    score: float
    dense_score: float | None = None
    sparse_score: float | None = None

    @classmethod
    def whole(cls, article_id: str, text: str, title: str = "") -> Hit:
        """A whole article as one passage: what a summary, a verdict or a comparison reads
        its sentences from."""
        return cls(Chunk(article_id, 0, len(text), text), title, 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.chunk.article_id,
            "title": self.title,
            "chunk_id": self.chunk.id,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "text": self.chunk.text,
            "score": self.score,
            "dense_score": self.dense_score,
            "sparse_score": self.sparse_score,
        }


@dataclass
class Failure:
    """An input that could not be ingested, with a one-line reason a user can act on."""

    path: str
    reason: str


@dataclass
class ReplacedId:
    """An article whose file gave an unsafe id (see ``rag.sources.corpus.ARTICLE_ID``); ``used`` is
    the safe id it was stored under."""

    path: str
    given: str
    used: str


@dataclass
class IngestReport:
    """What one ingest run changed; the JSON form is part of the CLI contract."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks_embedded: int = 0
    failed: list[Failure] = field(default_factory=list)
    near_duplicates: list[tuple[str, str]] = field(default_factory=list)
    replaced_ids: list[ReplacedId] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["near_duplicates"] = [list(pair) for pair in self.near_duplicates]
        return out

    def merge(self, other: IngestReport) -> None:
        """Add ``other``'s counts and lists to this report (one report for several runs)."""
        for name in ("added", "updated", "unchanged", "removed", "chunks_embedded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failed += other.failed
        self.near_duplicates += other.near_duplicates
        self.replaced_ids += other.replaced_ids


@dataclass
class Citation:
    """A checked citation: the passage number shown to the model and the exact article span
    (one or more whole sentences) that supports the answer sentence."""

    n: int
    article_id: str
    title: str
    start: int
    end: int
    text: str
    support: float


@dataclass
class AnswerSentence:
    text: str
    citations: list[int]  # passage numbers n of the citations that support it
    supported: bool
    quotes: list[int] = field(default_factory=list)
    """For each of ``citations``, its index in ``Answer.citations``: the exact sentence span
    that supports this sentence (one passage can support different sentences by different
    spans)."""
    status: str = "supported"
    """What the claim check found of the model's sentence: supported, contradicted,
    overstated or not found. A contradicted or overstated sentence is shown as the source
    sentence it got wrong, quoted (``text``), with what the model wrote in ``said``; one
    with a trailing detail the passages do not give, as the part they bear out (``text``,
    ``supported``), the whole sentence in ``said``."""
    reason: str = ""
    said: str = ""


@dataclass
class Answer:
    """What ``ask`` returns; ``stage`` says how far it got ('extractive', 'generating',
    'final'), so a UI can show each step as it arrives."""

    question: str
    query: str  # the standalone question used for retrieval
    answer: str
    refused: bool
    extractive: str
    sentences: list[AnswerSentence] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    timings: dict[str, float | None] = field(default_factory=dict)
    stage: str = "final"
    route: str = "extractive"
    """What produced the final answer: 'generated' (the model's checked sentences),
    'extractive' (quoted sentences of the passages) or 'refusal'."""
    verdict: str | None = None
    """For a yes/no question: 'yes', 'no' or 'unclear'; None for other questions."""
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    """Pairs of cited sentences of different articles that contradict each other:
    ``{"a": citation, "b": citation, "kind": "number"|"direction"|"polarity"}``."""
    evidence: list[Hit] = field(default_factory=list)
    """The numbered items the model was prompted with (what its [n] count); empty where no
    model was asked."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "query": self.query,
            "answer": self.answer,
            "refused": self.refused,
            "verdict": self.verdict,
            "route": self.route,
            "disagreements": self.disagreements,
            "extractive": self.extractive,
            "sentences": [asdict(s) for s in self.sentences],
            "citations": [asdict(c) for c in self.citations],
            "hits": [h.to_dict() for h in self.hits],
            "evidence": [{"n": n, "article_id": h.chunk.article_id, "start": h.chunk.start,
                          "end": h.chunk.end} for n, h in enumerate(self.evidence, start=1)],
            "timings": self.timings,
            "stage": self.stage,
        }


@dataclass
class Span:
    start: int
    end: int


@dataclass
class SummarySentence:
    text: str
    role: str  # tldr | overview | finding | caveat
    spans: list[Span]
    status: str
    """supported, contradicted, overstated or not found (``rag.reading.claims``); only supported
    sentences are shown as the summary."""
    support: float
    reason: str = ""
    drafted: str = ""
    """The model's own wording, where ``text`` is that sentence trimmed to the part the
    article bears out (empty: shown as drafted)."""

    @property
    def supported(self) -> bool:
        return self.status == "supported"


@dataclass
class Summary:
    """A checked summary: every sentence links to the article sentences it rests on."""

    article_id: str
    title: str
    sentences: list[SummarySentence]
    content_hash: str
    model: str
    seconds: float

    @property
    def shown(self) -> list[SummarySentence]:
        """The sentences the summary consists of: those the article bears out."""
        return [s for s in self.sentences if s.supported]

    def of_role(self, role: str) -> list[str]:
        return [s.text for s in self.shown if s.role == role]

    def to_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "tldr": " ".join(self.of_role("tldr")),
            "overview": " ".join(self.of_role("overview")),
            "findings": self.of_role("finding"),
            "caveats": self.of_role("caveat"),
            "sentences": [asdict(s) for s in self.shown],
            "dropped": [{"text": s.text, "role": s.role, "status": s.status,
                         "reason": s.reason} for s in self.sentences if not s.supported],
            "content_hash": self.content_hash,
            "model": self.model,
            "seconds": round(self.seconds, 2),
        }
