"""The public API that the CLI and the UI call: one ``Library`` per index folder."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from rag.answers.answer import SYSTEM_PROMPT, Answerer, History
from rag.answers.retrieve import Retriever, SentenceReranker
from rag.answers.sessions import Sessions
from rag.core.errors import IndexCorrupt, IndexMismatch, RagError
from rag.core.settings import Settings
from rag.core.types import Answer, Article, Filters, Hit, IngestReport
from rag.digest.page import DigestReport, latest, make_digest
from rag.digest.summarize import SUMMARY_PROMPT, Summarizer
from rag.digest.summary_batch import (
    BatchReport,
    Drafts,
    SummaryState,
    local_drafts,
    pending,
    run_batch,
    summary_paths,
)
from rag.generation.generate import Generator, PromptCache, cpu_backend, load_configured_generator
from rag.index.catalog import ArticleSummary
from rag.index.embedding import Embedder, load, runtime_for
from rag.index.generations import current_generation
from rag.index.ingest import ingest, ingest_articles
from rag.index.store import Store
from rag.index.vectorstores import VectorBackend
from rag.reading.check import ClaimCheck, judge
from rag.reading.compare import Comparison, compare_articles
from rag.reading.judge import configured_reader
from rag.reading.support import SupportScorer, WordWeights, evidence_sentences, with_article
from rag.reading.verifier import PairReader
from rag.sources.watch import Source, Watchlist


class Library:
    """An index folder and the models that read and write it.

    The embedder loads on first use, so listing or inspecting an index costs no model load;
    a question loads it through ONNX Runtime in a fifth of a second (``rag.index.embedding``).
    The generator loads on first generated answer. Tests pass small fakes; everything else is
    the real pipeline.
    """

    def __init__(self, settings: Settings, store: Store, embedder: Embedder | None = None,
                 generator: Generator | None = None):
        self.settings = settings
        self.store = store
        self._given_embedder = embedder  # a test's fake serves questions and documents alike
        self._embedders: dict[str, Embedder] = {}  # by runtime, shared with ``configured`` twins
        self._embedding = threading.Lock()
        # loaded generators by backend, shared with every ``configured`` twin of this library
        self._generators: dict[tuple[Any, ...], Generator] = {}
        self._loading = threading.Lock()  # one load per backend, whichever thread asks first
        if generator is not None:
            self._generators[self._backend()] = generator
        self._retriever: Retriever | None = None
        self._scorer: tuple[str | None, SupportScorer] | None = None

    @classmethod
    def open(cls, settings: Settings | None = None, embedder: Embedder | None = None,
             generator: Generator | None = None) -> Library:
        settings = settings or Settings.load()
        name = embedder.name if embedder else settings.embedder
        store = Store.open(Path(settings.index), name, VectorBackend.from_settings(settings))
        return cls(settings, store, embedder, generator)

    def configured(self, **changes: Any) -> Library:
        """The same library with some settings changed (a UI session's passages, backend or
        temperature). Shares the index, the embedder and every generator already loaded, so
        a change costs no model load unless it names a new backend."""
        if changes.get("llm_url", self.settings.llm_url) != self.settings.llm_url:
            changes["llm_api_key"] = ""  # the operator's key goes to the operator's URL only
        twin = Library(replace(self.settings, **changes), self.store, self._given_embedder)
        twin._generators, twin._loading = self._generators, self._loading
        twin._embedders, twin._embedding = self._embedders, self._embedding
        return twin

    @property
    def verifier(self) -> PairReader | None:
        """What reads the sentences of answers, summaries and compare cells over the rules
        (``Settings.claim_verifier``; None: the rules alone): a trained verifier, loaded on
        first use and shared by every library of the process, or this library's generator as
        a judge."""
        return configured_reader(self.settings.claim_verifier, self.settings,
                                 lambda: self.generator)

    @property
    def statement_reader(self) -> PairReader | None:
        """What reads a statement checked on its own over the rules
        (``Settings.statement_verifier``: by default the local model as a judge)."""
        return configured_reader(self.settings.statement_verifier, self.settings,
                                 lambda: self.generator)

    @property
    def generator(self) -> Generator:
        backend = self._backend()
        with self._loading:
            if backend not in self._generators:
                self._generators[backend] = load_configured_generator(self.settings)
            return self._generators[backend]

    def warm_generator(self) -> threading.Thread:
        """Load the generator, with the answer prompt's evaluated state, on a background
        thread while the caller opens the index and retrieves: a command-line question then
        waits only for its own prompt tokens (the load takes about a second). A failure here
        is left for the first real use to report.

        While llama-cpp-python loads a model quietly it points the process's standard output
        and error at /dev/null, whatever thread writes: anything printed meanwhile is lost.
        A caller that prints (the CLI) joins the returned thread first."""

        def warm() -> None:
            try:
                generator = self.generator
                if isinstance(generator, PromptCache):
                    generator.warm(SYSTEM_PROMPT)
            except Exception:  # noqa: BLE001 - the first real use reports it, in one line
                return

        thread = threading.Thread(target=warm, name="warm-generator", daemon=True)
        thread.start()
        return thread

    def use_generator(self, generator: Generator) -> None:
        """Answer and summarize with this generator instead of loading the configured one
        (an app or a test that built its own)."""
        self._generators[self._backend()] = generator

    def _backend(self) -> tuple[Any, ...]:
        s = self.settings
        return (s.generator, s.runtime, s.llm_url, s.llm_api_key, s.context_tokens, s.threads)

    def answerer(self) -> Answerer:
        return Answerer(self.search, self.scorer(), lambda: self.generator, self.settings,
                        self.article, lambda: self.verifier, lambda: self.statement_reader)

    def scorer(self) -> SupportScorer:
        """The support scorer, with word rarity over the indexed passages; rebuilt when the
        index changes, kept otherwise (it caches sentence embeddings)."""
        self.store.refresh()
        return self._current_scorer()

    def _current_scorer(self) -> SupportScorer:
        """The scorer of the generation already loaded (no refresh: a search refreshes once)."""
        if self._scorer is None or self._scorer[0] != self.store.generation:
            weights = WordWeights([c.text for c in self.store.chunks()])
            self._scorer = (self.store.generation, SupportScorer(self.embedder, weights))
        return self._scorer[1]

    def ask(self, question: str, history: History | None = None, k: int | None = None,
            generate: bool = True) -> Answer:
        """A checked, cited answer, or a refusal with the closest passages."""
        return self.answerer().ask(question, history, k, generate)

    def ask_stream(self, question: str, history: History | None = None, k: int | None = None,
                   generate: bool = True) -> Iterator[Answer]:
        """Like ``ask``, yielding the extractive answer and the growing text on the way."""
        return self.answerer().stream(question, history, k, generate)

    def check_statement(self, claim: str, article_id: str | None = None,
                        k: int | None = None) -> ClaimCheck:
        """Whether the articles (or one article) say what ``claim`` says: supported,
        contradicted, overstated or not found, with the sentences it was judged against
        (see ``rag.reading.claims``)."""
        claim = " ".join(claim.split())
        if not any(ch.isalnum() for ch in claim):
            raise RagError("the statement is empty; type a sentence to check")
        if len(claim) > self.settings.max_question_chars:
            raise RagError(f"the statement has {len(claim)} characters; check at most "
                           f"{self.settings.max_question_chars} (a sentence or two) at a time")
        if article_id is not None and self.store.article(article_id) is None:
            raise RagError(f"no article {article_id!r} in the index; see 'rag list'")
        hits = self.search(claim, k, Filters(article_ids=[article_id]) if article_id else None)
        evidence = evidence_sentences(hits)
        about = self.store.article(hits[0].chunk.article_id) if hits else None
        if about is not None:
            evidence = with_article(evidence, about)
        scores = self.scorer().scores([claim], evidence)[0]
        return judge(claim, evidence, scores, self.settings.support_threshold,
                     verifier=self.statement_reader)

    def compare(self, article_ids: list[str], question: str = "") -> Comparison:
        """The articles side by side, point by point (see ``rag.reading.compare``)."""
        articles = []
        for article_id in dict.fromkeys(article_ids):
            article = self.store.article(article_id)
            if article is None:
                raise RagError(f"no article {article_id!r} in the index; see 'rag list'")
            articles.append(article)
        return compare_articles(articles, self.scorer(), self.settings.support_threshold,
                                " ".join(question.split()), self.verifier)

    @property
    def embedder(self) -> Embedder:
        """What embeds questions and sentences: quick to load
        (``rag.index.embedding.runtime_for``)."""
        return self._embedder_for(documents=False)

    @property
    def document_embedder(self) -> Embedder:
        """What embeds articles at ingest: the same model, in the runtime fastest in bulk."""
        return self._embedder_for(documents=True)

    def _embedder_for(self, documents: bool) -> Embedder:
        if self._given_embedder is not None:
            return self._given_embedder
        runtime = runtime_for(self.settings, documents)
        with self._embedding:
            if runtime not in self._embedders:
                embedder = load(self.settings, runtime)
                built = self.store.manifest.get("dimension")
                if built and built != embedder.dimension:
                    raise IndexMismatch(
                        f"index was built with {built}-d vectors but {embedder.name} gives "
                        f"{embedder.dimension}-d; run 'rag reindex'"
                    )
                self._embedders[runtime] = embedder
            return self._embedders[runtime]

    def ingest(self, paths: list[Path], progress: bool = False,
               within: list[Path] | None = None) -> IngestReport:
        """Add new and changed articles from files and folders; see ``rag.index.ingest``. With
        ``within``, files resolving outside those folders are refused (web visitors)."""
        return ingest(self.store, self.document_embedder, self.settings, [Path(p) for p in paths],
                      progress, within, self._ray_embed())

    def _ray_embed(self) -> Any:
        """Embedding on the configured Ray cluster (None: in this process)."""
        if not self.settings.ray_address:
            return None
        name = self.document_embedder.name
        if name != self.settings.embedder:
            raise RagError(f"Ray workers load {self.settings.embedder}, but this index is "
                           f"embedded with {name}; set RAG_EMBEDDER to match")
        from rag.digest.ray_batch import embed_stream

        return embed_stream(self.settings)

    def search(self, query: str, k: int | None = None, filters: Filters | None = None) -> list[Hit]:
        """Hybrid retrieval, reranked by sentence-level support, at most
        ``per_article_cap`` passages per article."""
        self.store.refresh()
        if self._retriever is None:
            self._retriever = Retriever(
                self.store,
                lambda text: self.embedder.embed([text])[0],
                self.settings.candidates,
                self.settings.per_article_cap,
                self.settings.rrf_k,
                SentenceReranker(lambda: self._current_scorer().weights),
                self.settings.rerank_pool,
                self.settings.fusion_weight,
            )
        return self._retriever.search(query, k or self.settings.top_k, filters)

    @property
    def sessions(self) -> Sessions:
        """Named conversations of ``rag ask --session``, kept in the index folder."""
        return Sessions(Path(self.settings.index) / "sessions")

    @property
    def summaries_folder(self) -> Path:
        return Path(self.settings.summaries or Path(self.settings.index) / "summaries")

    @property
    def digests_folder(self) -> Path:
        return Path(self.settings.index) / "digests"

    def digest(self, new: bool = True, since: str = "", out: Path | None = None,
               progress: bool = False) -> DigestReport:
        """A digest of the new articles (or those dated from ``since``); see ``rag.digest.page``."""
        return make_digest(self, new, since, out or self.digests_folder, progress)

    def watched(self) -> list[Source]:
        """The sources ``rag watch`` follows for this index, with what each last found."""
        return Watchlist(Path(self.settings.index)).sources()

    def latest_digest(self) -> Path | None:
        """The newest HTML digest in the default folder, if any."""
        return latest(self.digests_folder)

    def summarizer(self, prompt: str = SUMMARY_PROMPT) -> Summarizer:
        return Summarizer(lambda: self.generator, self.scorer(), self.embedder, self.settings,
                          prompt, self.verifier)

    def summarize(self, article_ids: list[str] | None = None,
                  progress: bool = False, stale_only: bool = False) -> BatchReport:
        """Summarize the given articles, or (``None``) every article that is new or changed
        since its last summary; with ``stale_only``, of the given articles those whose
        summary is missing or out of date (the rest are reported as skipped). Finished
        summaries are on disk even if the batch is cut."""
        self.store.refresh()
        folder = self.summaries_folder
        todo, current = pending(self.store, SummaryState(folder))
        if article_ids is not None and stale_only:
            todo = [i for i in article_ids if i not in set(current)]
            current = [i for i in article_ids if i in set(current)]
        elif article_ids is not None:
            todo, current = article_ids, []
        summarizer = self.summarizer()
        report = run_batch(self.store, summarizer, todo, folder, self._drafts(summarizer),
                           progress) if todo else BatchReport()
        report.skipped = current
        return report

    def _drafts(self, summarizer: Summarizer) -> Drafts:
        """Who drafts a batch's summaries: Ray workers, concurrent requests to a server, or
        this process one article at a time."""
        if self.settings.ray_address:
            from rag.digest.ray_batch import ray_drafts

            return ray_drafts(self.settings, SUMMARY_PROMPT)
        workers = self.settings.llm_parallel if self.settings.llm_url else 1
        return local_drafts(summarizer, workers)

    def summary(self, article_id: str) -> dict[str, Any] | None:
        """The stored summary of an article (the JSON ``rag summarize`` wrote), if any."""
        try:
            return json.loads(summary_paths(self.summaries_folder, article_id)[1].read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            raise RagError(f"the summary of {article_id} is damaged; run 'rag summarize "
                           f"{article_id}' again") from None

    def summary_files(self, article_id: str) -> list[Path]:
        """The Markdown and JSON files of an article's summary that exist on disk."""
        return [p for p in summary_paths(self.summaries_folder, article_id) if p.is_file()]

    def summarized(self) -> list[str]:
        """Ids of the articles that have a summary on disk (the batch state records each one
        only after its files are written)."""
        return sorted(SummaryState(self.summaries_folder).entries)

    def article_ids_from(self, paths: list[Path]) -> list[str]:
        """Ids of the stored articles that were read from these files or folders."""
        roots = [str(Path(p).resolve()) for p in paths]
        return sorted(article_id for article_id, (_, source) in self.store.fingerprints().items()
                      if any(source == r or source.startswith(r + "/") for r in roots))

    def remove(self, article_ids: list[str]) -> dict[str, Any]:
        """Delete articles by id; unknown ids are reported, not fatal."""
        known = [a for a in article_ids if self.store.article(a) is not None]
        if known:
            dimension = int(self.store.manifest["dimension"])
            with self.store.transaction(dimension) as writer:
                for article_id in known:
                    writer.remove(article_id)
        return {"removed": len(known), "not_found": [a for a in article_ids if a not in known]}

    def articles(self) -> list[ArticleSummary]:
        self.store.refresh()
        return self.store.list_articles()

    def article(self, article_id: str) -> Article | None:
        return self.store.article(article_id)

    def versions(self, article_id: str) -> list[dict[str, Any]]:
        """The article's earlier texts, oldest first, each with what changed after it."""
        return self.store.versions(article_id)

    def info(self) -> dict[str, Any]:
        self.store.refresh()
        articles, chunks = self.store.counts()
        root = Path(self.settings.index)
        size = sum(p.stat().st_size for p in (root / (self.store.generation or "")).glob("*")) \
            if self.store.generation else 0
        return {
            "articles": articles,
            "chunks": chunks,
            "embedder": self.store.manifest.get("embedder", self.settings.embedder),
            "dimension": self.store.manifest.get("dimension"),
            "vector_store": self.store.manifest.get("vector_store", self.store.backend.kind),
            "generator": self.settings.llm_url or self.settings.generator,
            "generator_cpu_backend": None if self.settings.llm_url else cpu_backend(),
            "vector_index": self.store.manifest.get("vector_index"),
            "index": str(root.resolve()),
            "generation": self.store.generation,
            "size_bytes": size,
        }

    def check(self) -> list[str]:
        self.store.refresh()
        return self.store.check()


REINDEX_FOLDER = "reindex-partial"
"""Inside the index folder: the index ``rag reindex`` is building (kept across a kill)."""


def reindex(settings: Settings, embedder: Embedder | None = None,
            progress: bool = False) -> dict[str, Any]:
    """Re-chunk and re-embed every stored article with the configured embedder, into the
    configured vector store.

    Builds a new index beside the old one through the ingest pipeline (checkpoints: a killed
    reindex resumes where it stopped), then makes it the index's next generation; the old
    one serves searches until then. Reads the newest generation whose metadata reads, so it
    also repairs damaged or mismatched vectors.
    """
    embedder = embedder or load(settings, runtime_for(settings, documents=True))
    root = Path(settings.index)
    backend = VectorBackend.from_settings(settings)
    source = Store.open_for_repair(root, embedder.name, backend)
    began = current_generation(root)
    target = _reindex_target(root / REINDEX_FOLDER, embedder, backend)
    if target.generation is None:  # nothing re-embedded yet: start from an empty index
        with target.transaction(embedder.dimension):
            pass
    articles = [source.article(a.id) for a in source.list_articles()]
    report = ingest_articles(target, embedder, settings, [a for a in articles if a],
                             progress)
    source.adopt(target, began)
    shutil.rmtree(root / REINDEX_FOLDER, ignore_errors=True)
    return {"articles": len(articles), "chunks_embedded": report.chunks_embedded,
            "resumed": report.unchanged, "embedder": embedder.name,
            "dimension": embedder.dimension, "vector_store": backend.kind}


def _reindex_target(folder: Path, embedder: Embedder, backend: VectorBackend) -> Store:
    """The partial index of an earlier, interrupted reindex if it was building the same
    thing, else a new one. Its vectors go where the index's own do (same Milvus URI)."""
    twin = replace(backend, index=folder, milvus_uri=backend.uri)
    try:
        return Store.open(folder, embedder.name, twin)
    except (IndexMismatch, IndexCorrupt):  # it was for another embedder or vector store
        shutil.rmtree(folder, ignore_errors=True)
        return Store.open(folder, embedder.name, twin)
