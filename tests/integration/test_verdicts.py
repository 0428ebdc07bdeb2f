"""Yes/no questions on the real models: the packaged model as the judge of a finding follows
what the finding says, and questions about the sample article are answered from its findings
— the reason shown is a finding, quoted from the article."""

from __future__ import annotations

import pytest

from rag import Library, Settings
from rag.answers.answer import turn
from rag.generation.generate import LlamaCppGenerator, load_generator
from rag.generation.models import default_cache
from rag.reading.verdict import judge_for, judge_messages, load_heads, model_judge

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


SEED_QUESTIONS = {  # asked in one conversation -> the verdict a careful reader gives, and
    # words of the sentence it must cite
    "Can doctors use this stem cell therapy on women now?": ("no", "rat model"),
    "Is it ready for clinical use?": ("no", "rat model"),  # "it": the therapy just asked about
    "Did the stem cells cause tumours in the rats?": ("no", "tumor formation"),
}


def test_the_seed_questions_get_the_verdict_a_careful_reader_gives(
        sample: Library, model: LlamaCppGenerator):
    sample.use_generator(model)
    first = None
    for question, (verdict, reason) in SEED_QUESTIONS.items():
        answer = sample.ask(question, turn(first) if first else None)
        first = first or answer
        assert answer.verdict == verdict, (question, answer.answer)
        assert reason in answer.citations[0].text, (question, answer.answer)
    assert first.answer.startswith("No, not yet: the study was in animals.")


@pytest.mark.xfail(strict=True, reason="refused: the wording gate finds 'treated' and "
                   "'develop' nowhere in the article, which says the stem cells did not lead "
                   "to 'tumor formation' (coverage 0.26 against 0.34)")
def test_a_question_in_other_words_than_the_articles_still_gets_its_verdict(
        sample: Library, model: LlamaCppGenerator):
    sample.use_generator(model)
    answer = sample.ask("Did the treated rats develop tumours?")
    assert answer.verdict == "no" and "tumor formation" in answer.citations[0].text
