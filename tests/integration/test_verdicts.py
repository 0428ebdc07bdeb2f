"""Yes/no questions on the real models: the packaged model as the judge of a finding follows
what the finding says, and questions about the sample article are answered from its findings
— the reason shown is a finding, quoted from the article."""

from __future__ import annotations

import pytest

from rag import Library, Settings
from rag.generate import LlamaCppGenerator, load_generator
from rag.models import default_cache
from rag.verdict import judge_for, judge_messages, load_heads, model_judge

pytestmark = pytest.mark.integration
FINDING = "The researchers studied 40 female rats; no other animals were used."


@pytest.fixture(scope="module")
def model() -> LlamaCppGenerator:
    generator = load_generator("qwen2.5-coder-1.5b", "llama-cpp", "", default_cache(), 2048, 2)
    assert isinstance(generator, LlamaCppGenerator)
    return generator


def test_the_judge_follows_what_the_finding_says(model: LlamaCppGenerator):
    judge = model_judge(model)
    assert judge("Did the study use rats?", FINDING) > 0 > judge("Did the study use dogs?",
                                                                  FINDING)


def test_the_judges_fixed_prompt_is_evaluated_once(model: LlamaCppGenerator):
    model.option_logprobs(judge_messages("Did the study use rats?", FINDING), ["Yes", "No"])
    before = model.prompt_tokens_evaluated()
    question = judge_messages("Were only female rats studied?", FINDING)
    model.option_logprobs(question, ["Yes", "No"])
    own = len(model._llama.tokenize(question[1]["content"].encode(), add_bos=False))
    assert 0 < model.prompt_tokens_evaluated() - before <= own + 8


@pytest.fixture(scope="module")
def sample(sample_index) -> Library:
    return Library.open(Settings.load({"index": sample_index[0]}, env={}))


def test_a_question_about_the_sample_articles_population_gets_no_citing_the_rat_model(
        sample: Library):
    answer = sample.ask("Were the hUCMSCs tested in humans?", generate=False)
    assert answer.verdict == "no", answer.answer
    (citation,) = answer.citations
    assert citation.article_id == "000_c385f1c34fdd9a0c" and "rat" in citation.text


def test_tumour_and_tumor_get_the_same_answer(sample: Library):
    answers = [sample.ask(f"Did the researchers look for {word} formation?", generate=False)
               for word in ("tumour", "tumor")]
    assert answers[0].refused == answers[1].refused is False
    assert answers[0].verdict == answers[1].verdict
    assert [c.text for c in answers[0].citations] == [c.text for c in answers[1].citations]


def test_the_packaged_model_judges_with_the_shipped_model_head(sample: Library,
                                                               model: LlamaCppGenerator):
    assert judge_for(load_heads(), model) is not None  # the head names this model's file
    sample.use_generator(model)
    before = model.prompt_tokens_evaluated()
    answer = sample.ask("Were the hUCMSCs tested in humans?")
    assert model.prompt_tokens_evaluated() > before  # the model read the findings
    assert answer.verdict == "no", answer.answer
    assert answer.route == "extractive" and "rat" in answer.citations[0].text
