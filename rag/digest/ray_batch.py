"""Batch work on a Ray cluster, through Ray Data: chunk embedding for ``rag ingest --ray`` and
summary drafts for ``rag summarize --ray``. Each worker is an actor that loads its model once
(the embedder; the local generator, or a client of the configured OpenAI-compatible server).

Only the model work moves: the caller still reads, chunks, checks and commits, through the
same checkpoints and atomic files as without Ray. Nothing else imports this module, so
without ``--ray`` Ray is never imported. Workers must see the same models: on one machine
they do; on a cluster, install this package on every node (or pass a Ray runtime_env).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.core.types import Article
from rag.digest.summary_batch import Drafts, Outcome


def connect(address: str) -> None:
    """Join the Ray cluster at ``address`` ("local": start one inside this process)."""
    import ray

    if ray.is_initialized():
        return
    try:
        ray.init(address=None if address == "local" else address, include_dashboard=False,
                 log_to_driver=False, logging_level=logging.WARNING)
    except (ConnectionError, ValueError, RuntimeError) as err:
        raise RagError(f"cannot join the Ray cluster at {address}: {str(err).splitlines()[0]}"
                       "; start it with 'ray start --head' or fix --ray") from None


def _actors(settings: Settings) -> Any:
    """From one actor up to ``ray_workers``, as the cluster's free CPUs allow."""
    import ray.data

    return ray.data.ActorPoolStrategy(min_size=1, max_size=max(1, settings.ray_workers))


def _data_context(preserve_order: bool) -> Any:
    import ray.data

    for name in ("ray", "ray.data"):  # not three lines per dataset on stderr
        logging.getLogger(name).setLevel(logging.WARNING)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = preserve_order
    context.enable_progress_bars = False  # the caller shows its own
    return context


class _Embed:
    """A Ray actor holding one embedder."""

    def __init__(self, settings: Settings) -> None:
        import torch

        from rag.index.embedding import SentenceTransformerEmbedder

        torch.set_num_threads(1)  # one CPU per actor; Ray runs as many actors as asked
        self.embedder = SentenceTransformerEmbedder.configured(settings)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"n": batch["n"], "vector": self.embedder.embed([str(t) for t in batch["text"]])}


def embed_stream(settings: Settings) -> Callable[[list[str]], Iterator[np.ndarray]]:
    """Embeds texts on Ray workers, yielding vectors in the texts' order as they arrive, so
    the caller commits its first checkpoint while later texts are still being embedded."""

    def stream(texts: list[str]) -> Iterator[np.ndarray]:
        import ray.data

        connect(settings.ray_address)
        _data_context(preserve_order=True)
        rows = ray.data.from_items([{"n": n, "text": t} for n, t in enumerate(texts)])
        vectors = rows.map_batches(
            _Embed, fn_constructor_args=(settings,), batch_size=settings.embed_batch_size,
            compute=_actors(settings), num_cpus=1)
        expected = 0
        for batch in vectors.iter_batches(batch_size=None, batch_format="numpy"):
            numbers = batch["n"].tolist()
            if numbers != list(range(expected, expected + len(numbers))):
                raise RagError("Ray returned embeddings out of order; run the ingest again")
            expected += len(numbers)
            yield np.asarray(np.stack(batch["vector"]), dtype=np.float32)

    return stream


class _Draft:
    """A Ray actor holding one summarizer: the embedder (for key sentences) and the generator."""

    def __init__(self, settings: Settings, prompt: str) -> None:
        from rag.digest.summarize import Summarizer
        from rag.generation.generate import load_configured_generator
        from rag.index.embedding import SentenceTransformerEmbedder
        from rag.reading.support import SupportScorer

        embedder = SentenceTransformerEmbedder.configured(settings)
        generator = load_configured_generator(settings)
        self.summarizer = Summarizer(lambda: generator, SupportScorer(embedder), embedder,
                                     settings, prompt)
        self.model = generator.name

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        drafts, seconds, errors = [], [], []
        for article_id, title, text in zip(batch["id"], batch["title"], batch["text"],
                                           strict=True):
            began = time.perf_counter()
            try:
                drafts.append(self.summarizer.draft(Article(id=str(article_id), text=str(text),
                                                            title=str(title))))
                errors.append("")
            except RagError as err:
                drafts.append("")
                errors.append(str(err))
            seconds.append(time.perf_counter() - began)
        return {"id": batch["id"], "draft": np.array(drafts, dtype=object),
                "seconds": np.array(seconds), "error": np.array(errors, dtype=object),
                "model": np.array([self.model] * len(drafts), dtype=object)}


def ray_drafts(settings: Settings, prompt: str) -> Drafts:
    """Drafts summaries on Ray workers, yielding each article's outcome as it finishes."""

    def drafts(articles: list[Article]) -> Iterator[tuple[Article, Outcome]]:
        import ray.data

        connect(settings.ray_address)
        _data_context(preserve_order=False)
        by_id = {a.id: a for a in articles}
        rows = ray.data.from_items([{"id": a.id, "title": a.title, "text": a.text}
                                    for a in articles])
        # a local model's threads are its CPUs; a server client needs little
        cpus = 1 if settings.llm_url else max(1, settings.threads)
        done = rows.map_batches(_Draft, fn_constructor_args=(settings, prompt), batch_size=1,
                                compute=_actors(settings), num_cpus=cpus)
        for row in done.iter_rows():
            yield by_id[str(row["id"])], _outcome(str(row["draft"]), float(row["seconds"]),
                                                  str(row["model"]), str(row["error"]))

    return drafts


def _outcome(draft: str, seconds: float, model: str, error: str) -> Outcome:
    def result() -> tuple[str, float, str]:
        if error:
            raise RagError(error)
        return draft, seconds, model

    return result
