"""The claim check reads what a sentence says: each kind of alteration below scores as
"supported" by the support score alone (the check before this one), and is flagged here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag import Library
from rag.core.text import numbers
from rag.core.types import Hit
from rag.reading.check import judge
from rag.reading.claims import CONTRADICTED, NOT_FOUND, OVERSTATED, SUPPORTED, compare
from rag.reading.roles import role
from rag.reading.sentences import read, species
from rag.reading.support import Evidence
from tests.fakes import ScriptedVerifier

ARTICLE = (
    "Survival at five years was 35% in the treated group and 21% in controls (p = 0.03). "
    "The drug did not reduce blood pressure in older adults. "
    "Fasting glucose increased after twelve weeks of the high-fat diet. "
    "The study was carried out in 40 female rats with ovarian insufficiency. "
    "These results suggest that the treatment may restore ovarian function. "
    "Among the 54 skiers there were 43 men and 11 women. "
    "Interleukin IL-6 levels fell by half after the first dose. "
    "Hormone levels recovered in the treated rats."
)

ALTERED = [
    ("number", "Survival at five years was 53% in the treated group and 21% in controls "
               "(p = 0.03).", CONTRADICTED, "35%"),
    ("number", "Survival at five years was 35% in the treated group and 21% in controls "
               "(p = 0.3).", CONTRADICTED, "0.03"),
    ("negation dropped", "The drug reduced blood pressure in older adults.", CONTRADICTED,
     "not"),
    ("negation added", "Fasting glucose did not increase after twelve weeks of the high-fat "
                       "diet.", CONTRADICTED, "increased"),
    ("direction", "Fasting glucose decreased after twelve weeks of the high-fat diet.",
     CONTRADICTED, "increased"),
    ("population", "The study was carried out in 40 female humans with ovarian "
                   "insufficiency.", CONTRADICTED, "rats"),
    ("population swap", "Among the 54 skiers there were 43 men and 11 men.", CONTRADICTED,
     "women"),
    ("hedge dropped", "These results show that the treatment restores ovarian function.",
     OVERSTATED, "suggest"),
    ("modal dropped, attribution kept", "These results suggest that the treatment restores "
                                         "ovarian function.", OVERSTATED, "may"),
    ("a rats-only finding stated generally", "Hormone levels recovered with the treatment.",
     OVERSTATED, "rats"),
    ("code", "Interleukin IL-8 levels fell by half after the first dose.", NOT_FOUND, "IL-8"),
]


@pytest.fixture
def checked(library: Library, tmp_path: Path) -> Library:
    (tmp_path / "study.txt").write_text(ARTICLE)
    library.ingest([tmp_path / "study.txt"])
    return library


@pytest.mark.parametrize(("kind", "claim", "status", "quoted"), ALTERED,
                         ids=[a[0] for a in ALTERED])
def test_each_kind_of_alteration_is_flagged_with_the_sources_words(
        checked: Library, kind: str, claim: str, status: str, quoted: str):
    result = checked.check_statement(claim)
    assert result.scores and result.scores[0] >= checked.settings.support_threshold, \
        "on topic: the support score alone would have passed it"
    assert result.status == status, (kind, result.reason)
    assert quoted in result.reason


@pytest.mark.parametrize("sentence", [s + "." for s in ARTICLE.split(". ") if s])
def test_the_articles_own_sentences_are_supported(checked: Library, sentence: str):
    sentence = sentence.replace("..", ".")
    assert checked.check_statement(sentence).status == SUPPORTED


@pytest.mark.parametrize(("claim", "source"), [
    ("Survival was 35 % after five years.", "Survival at five years was 34.7%."),
    ("A proportion of 0.35 survived five years.", "Five-year survival was 35%."),
    ("Two groups were compared.", "2 groups were compared."),
    ("The trial enrolled 1234 patients.", "The trial enrolled 1,234 patients."),
    ("Blood pressure did not differ between the groups.",
     "Blood pressure was similar in both groups."),
    ("The drug had no effect on survival.", "The drug did not affect survival."),
    ("Glucose rose after the diet.", "Glucose increased after the diet."),
    ("The treatment may restore ovarian function in rats.",
     "These results suggest that the treatment may restore ovarian function in rats."),
])
def test_faithful_rewordings_are_not_flagged(claim: str, source: str):
    assert compare(read(claim), read(source)) == []


def test_numbers_that_name_are_compared_as_names_across_the_article():
    claim = read("Angiopoietin 1/2 is essential for ovarian health.")
    source = read("Ovarian health depends on a balance the stem cells restore.")
    named = read("The study looked at angiopoietin 1 and 2 (Ang1 and Ang2).")
    assert claim.numbers == [] and set(claim.codes) == {"angiopoietin 1", "angiopoietin 2"}
    assert compare(claim, source, context=[named]) == []
    wrong = compare(read("Angiopoietin 3 is essential for ovarian health."), source,
                    context=[named])
    assert [(f.kind, f.status) for f in wrong] == [("code", NOT_FOUND)]


def test_a_species_word_naming_where_cells_came_from_is_not_the_population():
    source = read("Human umbilical cord mesenchymal stem cells restored ovarian function.")
    assert source.population == {}
    context = [read("The experiments were done in rats with ovarian insufficiency.")]
    assert compare(read("The stem cells restored ovarian function in rats."), source,
                   context=context) == []
    in_women = compare(read("The stem cells restored ovarian function in women."), source,
                       context=context)
    assert ("population", CONTRADICTED) in [(f.kind, f.status) for f in in_women]


def test_a_negation_cue_moved_within_the_sentence_is_not_a_contradiction():
    source = read("Biopsy showed that both eyelid lesions were histologically similar to the "
                  "primary parotid tumour.")
    moved = read("Histologically similar eyelid lesions to the primary parotid tumour.")
    assert compare(moved, source) == []
    different = read("Biopsy showed that both eyelid lesions were histologically different "
                     "from the primary parotid tumour.")
    assert "polarity" in [f.kind for f in compare(different, source)]


def test_leaving_out_a_word_that_carries_its_own_denial_is_not_a_contradiction():
    source = read("Stem cells restored ovarian function in rats with ovarian insufficiency.")
    assert compare(read("Stem cells restored ovarian function in rats."), source) == []
    unchanged = read("Hormone levels remained unchanged after the treatment.")
    changed = compare(read("Hormone levels remained changed after the treatment."), unchanged)
    assert "polarity" in [f.kind for f in changed]


def test_a_hedge_inside_a_relative_clause_bears_only_on_that_clause():
    source = read("We predict the size of the symmetric difference between pairs of multisets, "
                  "sets which may contain multiple copies of the same object.")
    leaves_it_out = read("We predict the size of the symmetric difference between pairs of "
                         "multisets.")
    assert compare(leaves_it_out, source) == []
    drug = read("It is a drug that may reduce deaths after a stroke.")
    states_it = compare(read("It is a drug that reduces deaths after a stroke."), drug)
    assert ("hedge", OVERSTATED) in [(f.kind, f.status) for f in states_it]


def test_a_negation_about_something_else_is_not_a_contradiction():
    said = read("The team monitored the rats for tumor formation.")
    source = read("The cells did not lead to any immune rejection or tumor formation.")
    assert [f for f in compare(said, source) if f.kind == "polarity"] == []


def test_a_word_the_source_also_says_without_a_negation_is_not_denied_by_it():
    source = read("Though there is no baseline to compare with, the method gives realistic "
                  "views on large camera baselines.")
    assert compare(read("The method gives realistic views on large camera baselines."),
                   source) == []
    both = read("We explain their effectiveness (or ineffectiveness) in different settings.")
    assert compare(read("We explain their effectiveness in different settings."), both) == []
    # a denial the source does not take back still contradicts
    denied = compare(read("There is a baseline to compare with."), source)
    assert ("polarity", CONTRADICTED) in [(f.kind, f.status) for f in denied]


def test_numbers_keep_their_units_ranges_and_words():
    found = [(q.value, q.unit) for q in numbers(
        "Of 1,234 patients aged 12-20 years, 35% (0.35) had two or more visits; IL-6 rose "
        "on 3D scans of 5mg doses.")]
    assert found == [(1234.0, "patient"), (12.0, "year"), (20.0, "year"), (35.0, "%"),
                     (0.35, ""), (2.0, ""), (5.0, "mg")]


def test_a_compound_number_word_is_one_number_and_a_percentage_is_not_a_count():
    source = read("Eighty-five patients (64.4%) received MV repair and thirty-seven (28%) "
                  "did not.")
    assert [q.value for q in source.numbers] == [85.0, 64.4, 37.0, 28.0]
    assert compare(read("85 patients received MV repair."), source) == []
    # "85 patients" are 64.4 % of them: the model's "85%" misreads the count
    (wrong,) = compare(read("85% of patients received MV repair."), source)
    assert (wrong.kind, wrong.status) == ("number", CONTRADICTED) and "64.4%" in wrong.reason


def test_a_number_said_in_several_words_is_one_number_and_a_list_of_words_is_several():
    found = [(q.value, q.text) for q in numbers(
        "Two hundred and five women and one thousand five hundred men took two or three "
        "doses.")]
    assert found == [(205.0, "Two hundred and five women"),
                     (1500.0, "one thousand five hundred men"), (2.0, "two"),
                     (3.0, "three doses")]
    source = read("Two hundred and five women took part.")
    assert compare(read("205 women took part."), source) == []
    (wrong,) = compare(read("250 women took part."), source)
    assert (wrong.kind, wrong.status) == ("number", CONTRADICTED)


@pytest.mark.parametrize(("sentence", "expected"), [
    ("To determine whether the drug improves survival.", "purpose"),
    ("We aimed to assess pain after surgery.", "purpose"),
    ("Patients were randomized to the drug or placebo.", "method"),
    ("Heart failure is common in older adults.", "background"),
    ("The drug did not improve survival compared with placebo.", "finding"),
    ("The researchers employed a rat model of ovarian insufficiency.", "finding"),
    ("These results suggest that the drug is safe.", "conclusion"),
    ("Our general-purpose engine was more accurate than previous approaches.", "finding"),
])
def test_sentence_roles(sentence: str, expected: str):
    assert role(sentence) == expected


def test_a_labelled_paragraph_gives_each_of_its_sentences_its_role():
    assert role("The drug helped.", "Conclusions: The drug helped.") == "conclusion"
    assert role("Survival improved.", "Methods: Survival improved.") == "method"


def _sentences(*texts: str) -> list[Evidence]:
    article = " ".join(texts)
    whole = Hit.whole("a", article)
    return [Evidence(1, whole, article.index(t), article.index(t) + len(t), t) for t in texts]


def test_a_sentence_almost_as_close_that_bears_the_claim_out_makes_it_supported():
    evidence = _sentences("The drug may reduce deaths in adults with sepsis.",
                          "The drug reduced deaths in adults with sepsis.")
    claim = "The drug reduced deaths in adults with sepsis."
    close = judge(claim, evidence, np.array([0.80, 0.75]), 0.45)
    assert (close.status, [e.text for e in close.evidence]) == (SUPPORTED, [evidence[1].text])
    # the best sentence's objection stands where the other one is much less alike
    assert judge(claim, evidence, np.array([0.80, 0.55]), 0.45).status == OVERSTATED


def test_a_negation_of_something_the_source_never_mentions_is_not_a_contradiction():
    source = read("The new method plans on unseen tasks in the zero-shot condition.")
    adds = compare(read("The new method plans on unseen tasks in the zero-shot condition "
                        "without finetuning."), source)
    assert [f for f in adds if f.kind == "polarity"] == []
    denies = compare(read("The new method does not plan on unseen tasks."), source)
    assert ("polarity", CONTRADICTED) in [(f.kind, f.status) for f in denies]


def test_a_denial_read_against_a_sentence_silent_on_what_it_denies_is_not_found():
    # the model's conclusion checked against a background sentence sharing "cases"
    silent = compare(read("Routine chest radiography after bronchoscopy is not necessary in "
                          "most cases."),
                     read("Pneumothorax following bronchoscopy occurs in 1 to 6% of cases."))
    assert [(f.kind, f.status) for f in silent] == [("polarity", NOT_FOUND)]
    assert "“not necessary”" in silent[0].reason


@pytest.mark.parametrize(("claim", "source"), [
    ("The drug had no effect on survival.", "The drug improved survival."),
    ("The drug did not increase the risk of stroke.",
     "The risk of stroke was higher with the drug."),
    ("Routine radiography is not necessary after bronchoscopy.",
     "Routine radiography is necessary after bronchoscopy."),
])
def test_a_denial_still_contradicts_a_sentence_that_speaks_of_what_it_denies(
        claim: str, source: str):
    assert {(f.kind, f.status) for f in compare(read(claim), read(source))} == {
        ("polarity", CONTRADICTED)}


def test_a_denied_effect_is_compared_with_a_reported_association():
    assert compare(read("Fetal gender does not affect asthma visits."),
                   read("Asthma visits were not associated with fetal gender.")) == []


def test_a_change_of_another_quantity_is_not_a_direction_turned_round():
    source = read("Mixed precision training improves the speed of training.")
    # "loss" is a decrease word, but of nothing the source says changes
    assert compare(read("Adaptive loss scaling improves the speed of training."), source) == []
    # the same quantity said to move the other way, in other words, still contradicts
    turned = compare(read("Serum levels were lower after treatment."),
                     read("After treatment, serum levels rose sharply."))
    assert [(f.kind, f.status) for f in turned] == [("direction", CONTRADICTED)]


@pytest.mark.parametrize(("claim", "source"), [
    # a negation stops at a comma: "but not NmUR2," denies NmUR2, not the expression
    ("NmUR1 is expressed in the endocrine pancreas.",
     "Receptor subtype NmUR1, but not NmUR2, was expressed in the endocrine pancreas."),
    # "did not reach statistical significance" denies the significance
    ("HBO does not significantly affect the length of hospitalization.",
     "Although the length of hospitalization was shorter for the HBO group, the difference "
     "did not reach statistical significance."),
    # a word that denies another: excluded is not included; hormone-free is without hormone
    ("The study did not include pregnancies resulting in perinatal death.",
     "Pregnancies resulting in perinatal death were excluded."),
    ("Hormone levels remained unchanged.", "Hormone levels did not change."),
    ("Hormone-free patients chose the lower dose more often.",
     "The lower dose was chosen more often by patients without hormone treatment."),
    # what follows "except" is a clause of its own
    ("Men and women were clinically similar except for differences in crystalloid volume.",
     "Men and women were clinically similar except that men required higher crystalloid "
     "volumes."),
    # a source that says a thing both ways does not contradict either
    ("Adoption of one drug is not associated with adoption of another.",
     "Adoption of one group of drugs was poorly associated with adoption of others, "
     "indicating that adoption of one drug is not associated with adoption of another."),
    ("We learn to delete unimportant words.",
     "We learn to delete unimportant words and to process important words."),
    # a number the source uses as a name; "3D" is not a name "generate 3"
    ("The metastasis rate of station 9 lymph nodes was lower than other stations.",
     "The metastasis rate of station 9 was 3.45%, which was lower than other stations."),
    ("The framework learns how to generate 3D-zoomed versions of an image.",
     "Our framework learns to produce 3D-zoomed versions of an image."),
])
def test_sentences_the_model_drafted_faithfully_from_press_articles_are_not_flagged(
        claim: str, source: str):
    assert compare(read(claim), read(source)) == []


@pytest.mark.parametrize(("claim", "source"), [
    ("NmUR2 was expressed in the endocrine pancreas.",
     "Receptor subtype NmUR1, but not NmUR2, was expressed in the endocrine pancreas."),
    ("HBO significantly shortened the length of hospitalization.",
     "The length of hospitalization did not differ significantly with HBO."),
    ("Pregnancies resulting in perinatal death were included.",
     "Pregnancies resulting in perinatal death were excluded."),
    ("Patients with prior surgery were not excluded.",
     "Patients with prior surgery were excluded."),
    ("Men and women were not clinically similar.", "Men and women were clinically similar."),
    ("Hormone levels changed.", "Hormone levels remained unchanged."),
    ("Adoption of one drug is associated with adoption of another.",
     "Adoption of one drug is not associated with adoption of another."),
])
def test_the_same_readings_still_catch_a_negation_dropped_or_added(claim: str, source: str):
    assert ("polarity", CONTRADICTED) in [(f.kind, f.status)
                                          for f in compare(read(claim), read(source))]


def test_a_report_of_what_the_study_set_out_to_do_is_borne_out_by_its_purpose_sentence():
    evidence = _sentences("To analyse the results of infragenual revascularisation in "
                          "patients with critical limb ischaemia and insufficient veins.",
                          "Limb salvage was achieved in most patients.")
    scores = np.array([0.90, 0.30])
    aim = judge("The study analyzed the results of infragenual revascularisation in patients "
                "with critical limb ischaemia and insufficient veins.", evidence, scores, 0.45)
    assert (aim.status, [e.text for e in aim.evidence]) == (SUPPORTED, [evidence[0].text])
    # what it found is not: the purpose sentence says nothing of a result
    found = judge("Infragenual revascularisation improved the results in patients with "
                  "critical limb ischaemia.", evidence, scores, 0.45)
    assert found.status == NOT_FOUND
    reported = judge("The study analyzed the results of infragenual revascularisation, "
                     "finding that they improved.", evidence, scores, 0.45)
    assert reported.status == NOT_FOUND


def test_names_listed_with_a_slash_are_each_a_name():
    source = read("Ang1 promotes angiogenesis, while Ang2 modulates it in ovarian failure.")
    claim = read("Dysregulation of Ang1/2 is common in ovarian failure.")
    assert claim.numbers == [] and set(claim.codes) == {"ang1", "ang2"}
    assert compare(claim, source) == []
    wrong = compare(read("Dysregulation of Ang1/3 is common in ovarian failure."), source)
    assert [(f.kind, f.status) for f in wrong] == [("code", NOT_FOUND)]
    # a list names each thing once: the second 1 of "BRCA1/1" is a number the source lacks
    repeated = compare(read("Carriers of BRCA1/1 mutations were studied."),
                       read("Carriers of BRCA1/2 mutations were studied."))
    assert [(f.kind, f.status) for f in repeated] == [("number", NOT_FOUND)]


def test_a_window_the_verifier_reads_as_a_denial_makes_a_matched_wording_contradicted():
    # the rules match the wording; a reader sees "hurdles before clinical practice"
    evidence = _sentences("The cells restored ovarian function in rats.",
                          "There are still hurdles to overcome before clinical practice.")
    claim = "The treatment is ready for clinical practice."
    scores = np.array([0.5, 0.8])
    assert judge(claim, evidence, scores, 0.45).status == SUPPORTED
    verifier = ScriptedVerifier({claim: (0.1, 0.8, 0.1)}, {"contradicts_at": 0.7})
    check = judge(claim, evidence, scores, 0.45, verifier=verifier)
    assert (check.status, check.kind) == (CONTRADICTED, "verifier")
    assert "hurdles to overcome" in check.reason and check.evidence


def test_a_claim_the_rules_pass_but_no_window_supports_is_not_found():
    evidence = _sentences("The drug reduced deaths in adults with sepsis.")
    claim = "The drug reduced deaths in adults with sepsis at every hospital."
    doubted = ScriptedVerifier({claim: (0.03, 0.02, 0.95)}, {"doubts_below": 0.1})
    assert judge(claim, evidence, np.array([0.9]), 0.45).status == SUPPORTED
    assert judge(claim, evidence, np.array([0.9]), 0.45, verifier=doubted).status == NOT_FOUND
    believed = ScriptedVerifier({claim: (0.3, 0.02, 0.68)}, {"doubts_below": 0.1})
    assert judge(claim, evidence, np.array([0.9]), 0.45, verifier=believed).status == SUPPORTED


def test_a_paraphrase_the_rules_miss_is_supported_when_the_verifier_is_sure():
    evidence = _sentences("Mortality fell among adults with sepsis who were given the drug.")
    claim = "Fewer septic adults died on the drug."
    scores = np.array([0.3])  # below the support threshold: the rules find nothing
    assert judge(claim, evidence, scores, 0.45).status == NOT_FOUND
    sure = ScriptedVerifier({claim: (0.95, 0.01, 0.04)}, {"supports_at": 0.9})
    check = judge(claim, evidence, scores, 0.45, verifier=sure)
    assert (check.status, [e.text for e in check.evidence]) == (SUPPORTED, [evidence[0].text])
    unsure = ScriptedVerifier({claim: (0.85, 0.01, 0.14)}, {"supports_at": 0.9})
    assert judge(claim, evidence, scores, 0.45, verifier=unsure).status == NOT_FOUND


def test_numbers_and_populations_stay_with_the_rules_whatever_the_verifier_reads():
    evidence = _sentences("Blood pressure fell by 9 mmHg in rats given the drug.")
    sure = ScriptedVerifier({}, {"supports_at": 0.5})
    for claim, kind in (("Blood pressure fell by 12 mmHg in rats given the drug.", "number"),
                        ("Blood pressure fell by 9 mmHg in women given the drug.",
                         "population")):
        sure.readings[claim] = (0.99, 0.0, 0.01)
        check = judge(claim, evidence, np.array([0.9]), 0.45, verifier=sure)
        assert (check.status, check.kind) == (CONTRADICTED, kind)


def test_a_hedge_is_overruled_only_by_support_above_its_own_threshold():
    evidence = _sentences("In rats, stem cells may restore ovarian function.")
    claim = "In rats, stem cells restore ovarian function."
    scores = np.array([0.9])
    rules = judge(claim, evidence, scores, 0.45)
    assert (rules.status, rules.kind) == (OVERSTATED, "hedge")
    reading = {claim: (0.97, 0.01, 0.02)}
    lenient = ScriptedVerifier(reading, {"supports_at": 0.5, "hedges_at": 0.95})
    assert judge(claim, evidence, scores, 0.45, verifier=lenient).status == SUPPORTED
    strict = ScriptedVerifier(reading, {"supports_at": 0.5, "hedges_at": 0.99})
    assert judge(claim, evidence, scores, 0.45, verifier=strict).status == OVERSTATED


@pytest.mark.parametrize(("claim", "status"), [
    ("The study was published in the Journal of Ovarian Research.", SUPPORTED),
    ("Stem cells restore ovarian function.", OVERSTATED),
    ("The study shows how stem cells restore ovarian function.", OVERSTATED),
])
def test_a_modal_hedges_what_follows_it_not_the_words_before_it(claim: str, status: str):
    evidence = _sentences("A study published in the Journal of Ovarian Research shows how "
                          "stem cells may restore ovarian function.")
    assert judge(claim, evidence, np.array([0.9]), 0.45).status == status


def test_a_claim_that_says_more_than_the_words_before_a_modal_is_read_against_it():
    evidence = _sentences("The use of IV vitamin C in patients with COVID-19 may be feasible.")
    check = judge("Vitamin C cures COVID-19.", evidence, np.array([0.9]), 0.45)
    assert (check.status, check.kind) == (OVERSTATED, "hedge")


@pytest.mark.parametrize(("claim", "kinds"), [
    # looking for a thing does not say it was there: the denial does not contradict it
    ("The researchers watched for immune rejection and tumours.", []),
    ("The team tested for possible immune rejection.", []),
    ("The stem cells led to immune rejection.", [("polarity", CONTRADICTED)]),
    # a denial reaches each alternative joined by "or"
    ("The stem cells caused tumours in some of the rats.", [("polarity", CONTRADICTED)]),
    # "potential" qualifies "adverse effects", not the rest of the sentence
    ("The team monitored adverse effects.", [("hedge", OVERSTATED)]),
])
def test_searches_denied_alternatives_and_modal_adjectives_are_read_in_their_scope(
        claim: str, kinds: list[tuple[str, str]]):
    source = read("The team monitored potential adverse effects, ensuring that the stem cells "
                  "did not lead to any immune rejection or tumor formation.")
    assert sorted({(f.kind, f.status) for f in compare(read(claim), source)}) == kinds


@pytest.mark.parametrize(("claim", "status"), [
    ("Doctors can already use this therapy on women.", CONTRADICTED),
    ("The treatment is ready for clinical practice.", CONTRADICTED),
    # put off to later, or not about care: a study in rats does not contradict it
    ("More research is needed before the therapy can be used in patients.", NOT_FOUND),
    ("Women often have low hormone levels.", NOT_FOUND),
])
def test_a_claim_of_care_for_people_resting_on_a_study_in_rats_is_contradicted(
        claim: str, status: str):
    evidence = _sentences(
        "The researchers employed a rat model of ovarian insufficiency.",
        "Stem cell therapy restored ovarian function in treated rats.",
        "The cells could potentially be a treatment option for women.")
    check = judge(claim, evidence, np.array([0.3, 0.3, 0.3]), 0.45)
    assert check.status == status
    if status == CONTRADICTED:
        assert check.kind == "population" and "rat" in check.reason


def test_a_species_word_naming_where_material_came_from_is_not_the_population_studied():
    assert species(read("Camostat blocks infection with patient-derived SARS-CoV-2.")) == set()
    assert species(read("Camostat blocks infection in patients.")) == {"humans"}


@pytest.mark.parametrize(("claim", "status"), [
    ("The study was done in mice.", CONTRADICTED),
    ("The experiments were done in rats.", SUPPORTED),
    # "human subjects" of a future study and a hedged hope for women are not the study's
    ("The study was conducted in humans.", CONTRADICTED),
    # a claim that says more than who was studied is read as any other
    ("Rats recovered ovarian function.", NOT_FOUND),
])
def test_a_claim_of_who_was_studied_is_read_against_the_species_the_study_names(
        claim: str, status: str):
    evidence = _sentences(
        "The researchers employed a rat model of ovarian insufficiency.",
        "Future research is essential to understand the effects in human subjects.",
        "The cells could potentially be a treatment option for women.")
    assert judge(claim, evidence, np.array([0.3, 0.3, 0.3]), 0.45).status == status
