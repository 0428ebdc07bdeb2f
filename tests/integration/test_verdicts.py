"""The packaged model's own verdict probabilities, read from llama.cpp: they follow the
passage, and the reason it then writes continues from the prompt already evaluated."""

from __future__ import annotations

import math

import pytest

from rag.answer import VERDICT_OPTIONS, YES_NO_SYSTEM_PROMPT
from rag.generate import LlamaCppGenerator, load_generator
from rag.models import default_cache

pytestmark = pytest.mark.integration
WORDS = list(VERDICT_OPTIONS.values())
PASSAGE = "The researchers studied 40 female rats; no other animals were used."


@pytest.fixture(scope="module")
def model() -> LlamaCppGenerator:
    generator = load_generator("qwen2.5-coder-1.5b", "llama-cpp", "", default_cache(), 2048, 2)
    assert isinstance(generator, LlamaCppGenerator)
    return generator


def prompt(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": YES_NO_SYSTEM_PROMPT},
            {"role": "user", "content": f"Passages:\n[1] (Study)\n{PASSAGE}\n\n"
                                        f"Question: {question}"}]


def test_the_verdict_probabilities_follow_what_the_passage_says(model: LlamaCppGenerator):
    rats = model.option_logprobs(prompt("Did the study use rats?"), WORDS)
    dogs = model.option_logprobs(prompt("Did the study use dogs?"), WORDS)
    assert rats["Yes"] > rats["No"] and dogs["No"] > dogs["Yes"], (rats, dogs)
    for read in (rats, dogs):
        assert sum(math.exp(v) for v in read.values()) <= 1.0 + 1e-6


def test_the_reason_continues_after_the_verdict_without_re_evaluating_the_prompt(
        model: LlamaCppGenerator):
    messages = prompt("Were only female rats studied?")
    model.option_logprobs(messages, WORDS)
    before = model.prompt_tokens_evaluated()
    reason = "".join(model.stream(messages, 24, 0.0, prefill="Yes."))
    prefill = len(model._llama.tokenize(b"Yes.", add_bos=False))
    assert 0 < model.prompt_tokens_evaluated() - before <= prefill + 1
    assert reason.strip()
