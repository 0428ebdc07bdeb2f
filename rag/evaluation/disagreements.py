"""`rag eval disagreements`: how often the disagreement check (``rag.reading.disagree``) raises a
false alarm on two reports that agree, and how often it finds one that does not.

Built from PubMedQA's labelled questions, nothing written for the purpose: each study is
reported twice, as its abstract and as a short report made of its own conclusion paragraph
(the long answer), the way a press article restates a study.

- **Agreeing pairs**: the abstract without its conclusion (``corpus.jsonl``) and the report.
  They describe one study in different words, so every disagreement found is a false alarm.
- **Altered pairs**: the abstract with its conclusion (``corpus-with-conclusions-dev.jsonl``)
  and the report with one number changed, one negation added or dropped, or one direction
  flipped (``rag.evaluation.alterations``, as for the claim check). A found disagreement is a
  hit; an
  alteration the question does not bear on may rightly go unreported, so this is a lower
  bound on what a reader would want flagged.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from typing import Any

from tqdm import tqdm

from rag.core.types import Hit
from rag.evaluation.alterations import change_number, flip_direction, flip_negation
from rag.evaluation.questions import _percentiles
from rag.reading.disagree import find_disagreements
from rag.reading.support import SupportScorer
from rag.reading.verifier import PairReader

ALTERATIONS = {"number": change_number, "polarity": flip_negation, "direction": flip_direction}


def evaluate_disagreements(scorer: SupportScorer, questions: list[dict[str, Any]],
                           without: dict[str, dict[str, Any]],
                           with_conclusions: dict[str, dict[str, Any]], seed: int = 1,
                           progress: bool = True,
                           reader: Callable[[], PairReader | None] | None = None
                           ) -> dict[str, Any]:
    """False alarms on agreeing pairs and hits on altered pairs, per kind of alteration;
    ``without`` and ``with_conclusions`` map article ids to the two corpora's articles;
    ``reader`` confirms pairs said in other words, as in answers."""
    rng = random.Random(seed)
    alarms: list[dict[str, Any]] = []
    agreeing, seconds = 0, []
    altered: dict[str, list[bool]] = {kind: [] for kind in ALTERATIONS}
    usable = [q for q in questions if q.get("answerable", True) and q.get("answers")
              and q["evidence_article_ids"] and q["evidence_article_ids"][0] in without
              and q["evidence_article_ids"][0] in with_conclusions]
    for q in tqdm(usable, desc="disagreements", unit="question", disable=not progress,
                  file=sys.stderr):
        article_id, report = q["evidence_article_ids"][0], q["answers"][1]
        began = time.perf_counter()
        found = find_disagreements(q["question"], [_whole(without[article_id]),
                                                   _whole({"id": "report", "text": report})],
                                   scorer, reader)
        seconds.append(time.perf_counter() - began)
        agreeing += 1
        if found:
            alarms.append({"question": q["question"], "kind": found[0].kind,
                           "a": found[0].a.text, "b": found[0].b.text})
        for kind, alter in ALTERATIONS.items():
            changed = alter(report, rng)
            if changed and changed != report:
                altered[kind].append(bool(find_disagreements(
                    q["question"], [_whole(with_conclusions[article_id]),
                                    _whole({"id": "report", "text": changed})], scorer,
                    reader)))
    tried = [hit for hits in altered.values() for hit in hits]
    return {
        "agreeing_pairs": {"n": agreeing, "false_alarms": len(alarms),
                           "false_alarm_rate": round(len(alarms) / max(agreeing, 1), 4),
                           "alarms": alarms[:20]},
        "altered_pairs": {"n": len(tried), "found": sum(tried),
                          "found_rate": round(sum(tried) / max(len(tried), 1), 4),
                          "by_kind": {kind: {"n": len(hits),
                                             "found_rate": round(sum(hits) / max(len(hits), 1),
                                                                 4)}
                                      for kind, hits in altered.items()}},
        "seconds_per_pair": _percentiles(seconds),
    }


def _whole(article: dict[str, Any]) -> Hit:
    return Hit.whole(article["id"], article["text"], article.get("title", ""))
