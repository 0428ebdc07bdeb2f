"""The fixed system prompt is evaluated once: a later question, even after another kind of
prompt ran in between, evaluates only its own evidence and words (llama.cpp's own counter of
evaluated prompt tokens, not timings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answers.answer import REWRITE_PROMPT, SYSTEM_PROMPT
from rag.generation.generate import LlamaCppGenerator
from rag.generation.models import default_cache, resolve_generator_model

pytestmark = pytest.mark.integration


def smollm() -> Path:
    """The packaged SmolLM2: small enough to load in each test."""
    return Path(resolve_generator_model("smollm2-135m", default_cache()))


def answer_prompt(passage: str, question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Passages:\n[1] (Study)\n{passage}\n\n"
                                        f"Question: {question}"}]


def evaluated(generator: LlamaCppGenerator, messages: list[dict[str, str]]) -> int:
    before = generator.prompt_tokens_evaluated()
    assert "".join(generator.stream(messages, 8, 0.0))
    return generator.prompt_tokens_evaluated() - before


def test_second_question_does_not_re_evaluate_the_system_prompt():
    # no states folder: the prefix an earlier run saved on disk must not stand in for this
    # process's own cache, which is what is tested here
    generator = LlamaCppGenerator(smollm(), 2048, 2)
    first = answer_prompt("The study focused on angiopoietin 1 and 2 in rats.",
                          "Which angiopoietins does the study focus on?")
    second = answer_prompt("Luo, Q. led the research team with Liu, C. and Su, Y.",
                           "Who led the study?")
    rewrite = [{"role": "system", "content": REWRITE_PROMPT},
               {"role": "user", "content": "Earlier questions:\n- Who led it?\n\n"
                                           "Last question: Which journal published it?"}]
    system = len(generator._llama.tokenize(SYSTEM_PROMPT.encode(), add_bos=False))
    whole = len(generator._tokens(second)[0])
    assert evaluated(generator, first) >= system  # the first question pays for it once
    evaluated(generator, rewrite)  # another kind of prompt in between
    again = evaluated(generator, second)
    assert 0 < again <= whole - system, (again, whole, system)


def test_a_new_process_restores_the_system_prompt_from_disk_and_ignores_a_bad_file(
        tmp_path: Path):
    model = smollm()
    question = answer_prompt("The study focused on angiopoietin 1 and 2 in rats.",
                             "Which angiopoietins does the study focus on?")
    system = len(LlamaCppGenerator(model, 2048, 2)._llama.tokenize(SYSTEM_PROMPT.encode(),
                                                                    add_bos=False))
    first = LlamaCppGenerator(model, 2048, 2, tmp_path)
    whole = len(first._tokens(question)[0])
    assert evaluated(first, question) >= system  # evaluated here, and kept
    (kept,) = tmp_path.glob("prefix-*.npz")
    # a later process: the prefix comes from disk, only the question's own tokens are new
    assert 0 < evaluated(LlamaCppGenerator(model, 2048, 2, tmp_path), question) <= \
        whole - system
    kept.write_bytes(b"not a state")  # damaged: ignored, the prompt evaluated again
    assert evaluated(LlamaCppGenerator(model, 2048, 2, tmp_path), question) >= system


def test_a_warmed_generator_evaluates_the_system_prompt_before_the_first_question():
    generator = LlamaCppGenerator(smollm(), 2048, 2)
    question = answer_prompt("The study focused on angiopoietin 1 and 2 in rats.",
                             "Which angiopoietins does the study focus on?")
    system = len(generator._llama.tokenize(SYSTEM_PROMPT.encode(), add_bos=False))
    whole = len(generator._tokens(question)[0])
    before = generator.prompt_tokens_evaluated()
    generator.warm(SYSTEM_PROMPT)
    assert generator.prompt_tokens_evaluated() - before >= system  # paid while warming
    assert 0 < evaluated(generator, question) <= whole - system  # the question: its own only


def test_a_follow_up_that_starts_with_the_last_evidence_resumes_after_a_rewrite_in_between():
    from llama_cpp import Llama

    generator = LlamaCppGenerator(smollm(), 2048, 2)
    evidence = ("The study focused on angiopoietin 1 and 2 in rats with ovarian insufficiency. "
                "Stem cells from human umbilical cords were injected into the tail vein.")
    first = answer_prompt(evidence, "Which angiopoietins does the study focus on?")
    follow_up = answer_prompt(evidence + "\n\n[2] The work appeared in the Journal of Ovarian "
                              "Research.", "Which journal published it?")
    rewrite = [{"role": "system", "content": REWRITE_PROMPT},
               {"role": "user", "content": "Earlier questions:\n- Which angiopoietins?\n\n"
                                           "Last question: Which journal published it?"}]
    tokens = generator._tokens(follow_up)[0]
    shared = Llama.longest_token_prefix(generator._tokens(first)[0], tokens)
    system = len(generator._llama.tokenize(SYSTEM_PROMPT.encode(), add_bos=False))
    assert shared > system + 30  # the evidence is a good part of what the two share
    evaluated(generator, first)
    evaluated(generator, rewrite)  # replaces the live context
    assert 0 < evaluated(generator, follow_up) <= len(tokens) - shared
