"""What a sentence of an article does — states a conclusion or a finding, or gives the
study's purpose, background or methods. Only conclusions and findings can bear out a claim
or answer a yes/no question: "We asked whether X improves Y" says nothing about whether it
does.
"""

from __future__ import annotations

import re

from rag.reading.support import Evidence

_CONCLUSION = re.compile(
    r"^\s*conclusions?\s*:|\b(we conclude|in conclusion|in summary|taken together|overall,|"
    r"(our|these|the) (results|findings|data|study|observations) (show|showed|suggest|"
    r"suggested|indicate|indicated|demonstrate|demonstrated|confirm|support)|this study "
    r"(shows|showed|suggests|demonstrates|indicates|found))\b", re.I)
_PURPOSE = re.compile(
    r"^\W*to (determine|evaluate|assess|investigate|examine|compare|explore|test|identify|"
    r"describe|analy[sz]e|study|establish|clarify|review|characteri[sz]e|quantify|measure|"
    r"estimate|ascertain|report|correlate|define|validate|document|understand|verify|"
    r"find out|elucidate)\b|"
    r"(?<!-)\b(aims?|aimed|objectives?|purpose|goal|we (hypothesi[sz]ed|sought|asked|wanted|"
    r"tested whether)|was to|were to|whether)\b|\?\s*$", re.I)
"""A purpose word inside a compound ("general-purpose", "multi-goal") names a kind of thing,
not the study's aim."""
_REPORTED = re.compile(
    r"\b(researchers|team|authors|investigators|scientists|study|trial|research|experiments?)"
    r"\b.{0,80}?\b(found|observed|showed|reported|noted|employed|used|tested|studied|"
    r"monitored|measured|compared|demonstrated|identified|revealed|confirmed|focused)\b", re.I)
"""A report of what the study did or found, as news articles write it ("The researchers
employed a rat model…"): a finding of the article, whatever its verb."""
_METHOD = re.compile(
    r"\b(were (randomi[sz]ed|enrolled|recruited|included|assigned|divided|allocated|selected|"
    r"reviewed|collected|obtained|followed|interviewed|surveyed|identified|screened|"
    r"matched|stratified|treated with)|we (enrolled|recruited|reviewed|included|used|"
    r"performed|conducted|collected|retrospectively|prospectively|designed|surveyed)|"
    r"(was|were) (performed|conducted|used|administered|recorded)|retrospective|prospective|"
    r"cross-sectional|questionnaires?|database|registry|medical records|charts? review)\b",
    re.I)
_RESULT = re.compile(
    r"\b(significant(ly)?|p\s*[<=>≤]|associated|associations?|correlat\w*|increased|decreased|"
    r"reduced|improved|higher|lower|greater|fewer|more|less|worse|better|(did|does|do|was|"
    r"were|is|are|had|has|have) not|no (significant|difference|effect|association|"
    r"correlation|relationship|impact|change|benefit|evidence|advantage)|showed|found|"
    r"demonstrated|revealed|observed|predicted|predictive|odds ratio|hazard ratio|"
    r"relative risk|sensitivity|specificity|accuracy|compared (with|to)|differ\w*|similar|"
    r"comparable|effective|safe|feasible|useful|independent\w*|risk|rates?)\b|%", re.I)
_SECTION = re.compile(r"^\s*(?P<label>[A-Za-z][A-Za-z ]{2,30}?)\s*:", re.M)
_SECTIONS = {"conclusion": "conclusion", "conclusions": "conclusion",
             "interpretation": "conclusion", "results": "finding", "findings": "finding",
             "methods": "method", "design": "method", "setting": "method",
             "objective": "purpose", "objectives": "purpose", "aim": "purpose",
             "aims": "purpose", "purpose": "purpose", "background": "background",
             "introduction": "background", "context": "background"}


_STUDY_DID = re.compile(
    r"\b(study|studies|trial|researchers|authors|investigators|we|paper|work|analysis|"
    r"review|survey)\b(?:\s+\w+){0,3}?\s+(investigat|evaluat|assess|examin|compar|explor|"
    r"analy[sz]|determin|measur|characteri[sz]|describ|aim|sought|set out)\w*", re.I)
"""A report of what a study set out to do: "The study investigated X", "The study was
planned to evaluate X"."""
_FOUND = re.compile(r"\b(found|finds?|finding|show(s|ed|n)?|demonstrat\w*|reveal\w*|"
                    r"conclud\w*|suggest\w*|indicat\w*|confirm\w*|significant\w*|"
                    r"associated|effective)\b", re.I)
"""Words of a result: a sentence with one says what a study found, not only what it did."""


def reports_aim(sentence: str) -> bool:
    """Whether a sentence reports what a study set out to do ("The study analyzed the
    results of X"), as a summary's overview does: such a claim is borne out by the
    article's own purpose sentence ("To analyse the results of X"); one that also says what
    the study found ("…, finding high sensitivity") is not."""
    return bool(_STUDY_DID.search(sentence) and not _FOUND.search(sentence))


def role(sentence: str, paragraph: str = "") -> str:
    """What a sentence of an abstract or a report does: conclusion, finding, purpose,
    method or background. Only conclusions and findings can answer a question. A labelled
    paragraph ("Conclusions: …", "Results: …", as structured abstracts have) says it for
    every sentence in it; otherwise the sentence's own wording does."""
    label = _SECTION.match(paragraph)
    section = _SECTIONS.get(label.group("label").strip().lower()) if label else None
    if section in ("conclusion", "method", "purpose", "background"):
        return section
    if _CONCLUSION.search(sentence):
        return "conclusion"
    if _PURPOSE.search(sentence) and not re.search(r"\b(we found|showed|was associated)\b",
                                                   sentence, re.I):
        return "purpose"
    if _REPORTED.search(sentence):
        return "finding"
    if _RESULT.search(sentence):
        return "finding" if not _METHOD.search(sentence) or re.search(
            r"\bsignificant|\bp\s*[<=>]|associated|did not|no difference", sentence, re.I) \
            else "method"
    return "method" if _METHOD.search(sentence) else "background"


def paragraph_of(evidence: Evidence) -> str:
    """The part of the sentence's paragraph its passage shows, up to the sentence."""
    chunk = evidence.hit.chunk
    before = chunk.text[: evidence.start - chunk.start]
    return before[before.rfind("\n") + 1:] + evidence.text
