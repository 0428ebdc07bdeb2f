"""Tiny deterministic stand-ins for the real models, for fast unit tests."""

from __future__ import annotations

import hashlib
import re

import numpy as np

_TOKEN = re.compile(r"\w+|[^\w\s]")


class HashingEmbedder:
    """Bag-of-words vectors from hashed lowercase words: similar words, similar vectors."""

    def __init__(self, dimension: int = 64, name: str = "fake-hashing-embedder") -> None:
        self.name = name
        self.dimension = dimension
        self.calls = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension
                out[row, bucket] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else np.eye(self.dimension)[0]
        return out

    def token_spans(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        return [[m.span() for m in _TOKEN.finditer(text)] for text in texts]


class ScriptedGenerator:
    """Replies with fixed text, word by word up to ``max_tokens`` words, and records the
    prompts it was given."""

    def __init__(self, *replies: str) -> None:
        self.name = "scripted"
        self.replies = list(replies)
        self.prompts: list[list[dict[str, str]]] = []

    def stream(self, messages, max_tokens, temperature=0.0):
        self.prompts.append(messages)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        for word in reply.split(" ")[:max_tokens]:  # a word stands for a token
            yield word + " "


class ReadingGenerator(ScriptedGenerator):
    """A ScriptedGenerator that also "reads its probabilities": fixed first-word
    log-probabilities (each reading's prompt is recorded)."""

    def __init__(self, logprobs: dict[str, float], *replies: str) -> None:
        super().__init__(*replies)
        self.logprobs = logprobs

    def option_logprobs(self, messages, options):
        self.prompts.append(messages)
        return {option: self.logprobs.get(option, -20.0) for option in options}


class CachingGenerator(ScriptedGenerator):
    """A ScriptedGenerator with llama.cpp's prompt-state calls
    (``rag.generation.generate.PromptCache``): it records the system prompts warmed and the
    times its recent states were dropped, and counts prompt tokens as a test adds them to
    ``evaluated``."""

    def __init__(self, *replies: str) -> None:
        super().__init__(*(replies or ("",)))
        self.warmed: list[str] = []
        self.forgotten = 0
        self.evaluated = 0

    def warm(self, system):
        self.warmed.append(system)

    def forget_recent(self):
        self.forgotten += 1

    def prompt_tokens_evaluated(self):
        return self.evaluated


class ScriptedVerifier:
    """A claim verifier that reads every window of a claim the same way: the (supported,
    contradicted, nei) probabilities it was given for that claim (default: all "nei")."""

    around = 3
    plan = "all"

    def __init__(self, readings: dict[str, tuple[float, float, float]],
                 thresholds: dict[str, float] | None = None) -> None:
        from rag.reading.verifier import THRESHOLDS

        self.readings = readings
        self.thresholds = {**THRESHOLDS, **(thresholds or {})}

    def probabilities(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        return np.array([self.readings.get(claim, (0.0, 0.0, 1.0)) for _, claim in pairs],
                        dtype=np.float32).reshape(len(pairs), 3)
