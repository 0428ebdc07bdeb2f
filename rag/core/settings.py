"""One settings object for every knob. CLI flags and ``RAG_*`` environment variables map onto it.

Each field ``name`` can be set by the environment variable ``RAG_<NAME>`` (e.g. ``RAG_INDEX``,
``RAG_EMBEDDER``); explicit overrides (CLI flags) win over the environment, which wins over
the defaults here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from rag.core.errors import RagError

PACKAGED_EMBEDDER = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    index: Path = Path("index")
    """Folder holding the on-disk index."""
    embedder: str = PACKAGED_EMBEDDER
    """The packaged model's name, a local model folder, or a Hugging Face hub id."""
    chunk_tokens: int = 160
    """Upper bound of a chunk in embedder word pieces (the default embedder reads 256)."""
    overlap_tokens: int = 32
    """How much of the previous chunk's tail (whole sentences) a chunk repeats."""
    embed_batch_size: int = 32
    embed_precision: str = "auto"
    """float32, bfloat16, or auto: bfloat16 where the CPU has bfloat16 units (AMX/AVX512-BF16;
    ~3x faster ingest), float32 elsewhere."""
    embed_runtime: str = "auto"
    """What runs the embedder: onnx (ONNX Runtime, float32; starts in 0.2 s instead of 4-6 s,
    exported once into the model cache), torch (sentence-transformers), or auto: ONNX Runtime
    for questions and sentences, and for documents too unless bfloat16 makes torch faster."""
    max_file_mb: float = 20.0
    """Inputs larger than this are refused rather than risking memory and hours of embedding."""
    checkpoint_articles: int = 64
    """Ingest commits a new index generation every this many articles, so a kill loses little."""
    top_k: int = 5
    candidates: int = 50
    """How many hits each retriever (dense, BM25) contributes before fusion."""
    per_article_cap: int = 2
    """At most this many of the top-k hits may come from one article."""
    rrf_k: int = 60
    rerank_pool: int = 20
    """How many fused candidates the sentence-level reranker reorders (0: no reranking)."""
    fusion_weight: float = 0.5
    """Weight of the (max-normalised) fused score beside the reranker's sentence score."""
    vector_store: str = ""
    """Where chunk vectors live: faiss (files in the index folder) or milvus (a Milvus
    server or Milvus Lite file, see milvus_uri; needs the 'scale' extra). Empty: the store
    the index was built with, faiss for a new one. 'rag reindex --vector-store' moves an
    index to another store."""
    milvus_uri: str = ""
    """A Milvus server (http://host:19530) or a Milvus Lite file (path ending .db). Empty:
    milvus.db inside the index folder (Milvus Lite)."""
    milvus_token: str = ""
    """Credentials for the Milvus server ("user:password" or an API key)."""
    milvus_collection: str = "rag"
    """Prefix of this library's collections; give each library on one server its own."""
    ray_address: str = ""
    """Embed chunks ('rag ingest') and draft summaries ('rag summarize') on a Ray cluster
    (needs the 'scale' extra): its address (127.0.0.1:6379, ray://host:10001), 'auto' (the
    cluster this machine joined) or 'local' (Ray inside this process). Empty: no Ray."""
    ray_workers: int = 2
    """Most Ray actors at once, each holding its own copy of the model."""
    ann_threshold: int = 50_000
    """Above this many vectors the exact FAISS index is replaced by an IVF index."""
    near_duplicate_jaccard: float = 0.8
    """Estimated word-shingle Jaccard similarity above which two articles are reported."""
    generator: str = "qwen2.5-coder-1.5b"
    """Packaged model name (qwen2.5-coder-1.5b, qwen2.5-coder-0.5b, smollm2-135m), a .gguf
    file, a transformers model folder, or (with llm_url) the server's model name."""
    runtime: str = "auto"
    """auto (llama.cpp where installed, else transformers), llama-cpp or transformers."""
    llm_url: str = ""
    """Base URL of an OpenAI-compatible server; when set, generation goes there."""
    llm_api_key: str = ""
    use_server: bool = True
    """``rag ask``, ``search`` and ``check`` send their question to a ``rag serve`` running on
    the same index (its models are loaded) instead of loading them; ``--no-server`` or
    RAG_USE_SERVER=false answers in the command's own process."""
    server_login: str = ""
    """USER:PASSWORD for a running ``rag serve --auth``, so the command line can use it too."""
    model_cache: Path = Path("~/.cache/rag/models")
    """Where joined GGUF files and converted transformers weights are kept."""
    context_tokens: int = 4096
    threads: int = 2
    prompt_passages: int = 4
    """How many of the top hits the prompt draws on (prompt processing dominates CPU time)."""
    prompt_style: str = "evidence"
    """evidence: the passages' best sentences for the question, within evidence_tokens;
    passages: the whole passages (the earlier prompt, kept to compare)."""
    evidence_tokens: int = 150
    """Budget of the evidence-first prompt's numbered sentences, in model tokens (150: on 40
    dev questions answered by the model, the same answered share and citations as 200, with
    the median uncached prompt 190 tokens instead of 228)."""
    max_answer_tokens: int = 160
    temperature: float = 0.0
    refusal_threshold: float = 0.35
    """Below this evidence score (the best sentence's support for the question) the answer is
    a refusal. Calibrated with coverage_threshold by 'rag eval calibrate' on the PubMedQA dev
    questions; record: eval/refusal-calibration.json."""
    coverage_threshold: float = 0.34
    """Below this share of the question's wording (rarity-weighted) in the best passage the
    answer is a refusal: related articles that are not about the question's own subject."""
    fallback_threshold: float = 0.45
    """When the model finds no supported answer, evidence at least this good is quoted
    (extractive answer); below it the model's failure counts as a vote to refuse."""
    support_threshold: float = 0.45
    """A citation is kept when the cited sentence supports the answer sentence this well."""
    claim_verifier: str = "off"
    """What reads each sentence of an answer, a summary, a digest or a compare cell against
    its evidence windows over the rules: 'model' (the configured generator as a judge,
    rag/reading/judge.py), 'packaged' (the verifier 'make checker' trains into
    rag/reading/weights/claim-verifier), a cross-encoder folder or hub id with the three labels
    supported, contradicted, nei, or 'off' (the rules alone: the default, as the model's
    half a second a window would slow every answer and summary)."""
    statement_verifier: str = "auto"
    """The same for a statement checked on its own ('rag check', /check, the app's Check
    box), where a second is affordable: 'auto' (the default) is the model as a judge when the
    generator is a local model that reads its own word probabilities, else the rules alone;
    or any value of ``claim_verifier``."""
    verdict_head: Path | None = None
    """The yes/no verdict head ('rag eval verdicts --head FILE'); default: the one fitted on
    the PubMedQA dev labels that ships with the package (rag/reading/verdict_head.json)."""
    fetch_timeout_s: float = 15.0
    """Longest a page or feed fetch may take ('rag ingest URL', '--feed'), start to end."""
    fetch_max_redirects: int = 5
    allow_private_links: bool = False
    """Let links a feed supplies, and redirects, reach loopback and private-network
    addresses ('rag ingest --allow-private-links'). Off: only public addresses, or the
    origin of the URL the operator typed, are fetched."""
    summaries: Path | None = None
    """Where summaries and their state go; default: a 'summaries' folder inside the index."""
    summary_tokens: int = 100
    """Most tokens the model may write for one summary (every bundled draft runs into the
    cap; what it cuts is the overview, asked for last. 100 rather than 110: on 30 SciTLDR
    papers TLDR ROUGE-1 40.8 either way, overview 37.8 against 36.6, supported 0.91 / 0.90)."""
    summary_input_tokens: int = 300
    """Articles longer than this (embedder word pieces) are summarized from their key
    sentences up to this length: on CPU the prompt's length is most of a summary's time
    (300 rather than 400: ~1 s less per long article; TLDR ROUGE-1 on 30 SciTLDR papers 40.8
    against 41.4, overview and supported share unchanged)."""
    llm_parallel: int = 4
    """Concurrent requests to an OpenAI-compatible server when summarizing a batch."""
    library: tuple[Path, ...] = ()
    """Folders web visitors may ingest from by path (``rag serve --library``; comma-separated
    in RAG_LIBRARY). Empty: the bundled corpus/ folder. The uploads folder always counts."""
    allow_llm_url: tuple[str, ...] = ()
    """Generator servers web visitors may choose, besides ``llm_url`` (comma-separated).
    The operator's API key is only ever sent to ``llm_url``."""
    max_upload_mb: float = 20.0
    """Largest single file a web visitor may upload."""
    max_upload_files: int = 20
    max_upload_total_mb: float = 100.0
    """Most files, and most bytes, one upload request may bring."""
    max_question_chars: int = 2000
    """Longest question the web app and its API accept, and longest statement the claim
    check reads (anywhere: reading a statement costs more than linear time in its length)."""
    max_k: int = 20
    """Most passages a web visitor may ask for."""

    @classmethod
    def load(
        cls, overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
    ) -> Settings:
        """Defaults, then ``RAG_*`` variables from ``env``, then non-None ``overrides``."""
        env = os.environ if env is None else env
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"RAG_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _convert(f.name, raw, hints[f.name])
        for name, value in (overrides or {}).items():
            if value is not None:
                values[name] = _convert(name, value, hints[name]) \
                    if isinstance(value, str) else value
        return replace(cls(), **values)


_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True,
             "0": False, "false": False, "no": False, "off": False}


def _convert(name: str, raw: str, hint: Any) -> Any:
    """``raw`` as the field's type (the non-None member of an optional)."""
    if get_origin(hint) is tuple:  # comma-separated, e.g. RAG_LIBRARY=corpus,/srv/news
        kind = get_args(hint)[0]
        return tuple(kind(part.strip()) for part in raw.split(",") if part.strip())
    kinds = [k for k in get_args(hint) if k is not type(None)] or [hint]
    if kinds[0] is bool:
        if raw.strip().lower() not in _BOOLEANS:
            raise RagError(f"RAG_{name.upper()}={raw!r} is not true or false; fix or unset it")
        return _BOOLEANS[raw.strip().lower()]
    try:
        return kinds[0](raw)
    except ValueError:
        raise RagError(
            f"RAG_{name.upper()}={raw!r} is not a valid {kinds[0].__name__}; fix or unset it"
        ) from None
