"""Eight clients chatting at once with one ``rag serve`` while an ingest writes to its index:
no errors, no crossed conversations, a consistent index afterwards."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import CORPUS, EVAL_CORPUS, REPO, jsonl_lines
from tests.processes import RAG, rag_json, serving
from tests.robustness.conftest import record

pytestmark = [pytest.mark.integration, pytest.mark.robustness, pytest.mark.e2e]
SESSIONS, ROUNDS = 8, 2
SOURCE = re.compile(r'#source/([^/"\\]+)/')  # also inside JSON-escaped message content


def topics() -> list[tuple[str, str]]:
    """(article id, a question only that article answers) for SESSIONS bundled articles."""
    chosen = []
    for path in sorted(CORPUS.glob("pubmed-*.md"))[: SESSIONS]:
        body = path.read_text().split("---", 2)[2].strip()
        opening = " ".join(body.split()[:14])
        chosen.append((path.stem, f"What does the study that begins '{opening}' report?"))
    return chosen


def converse(url: str, question: str) -> tuple[list[list[str]], int]:
    """Two turns in one client session: the article ids each answer's sources open (in
    order), and how many turns answered with an error."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    shown: list = []
    cited, errors = [], 0
    for turn in (question, "What did they conclude?")[:ROUNDS]:
        shown, _ = client.predict(turn, shown, 5, "local model", "", 0.0, api_name="/chat")
        reply = shown[-1]["content"]
        reply = reply if isinstance(reply, str) else json.dumps(reply)
        errors += "⚠" in reply  # render.error_html's mark
        cited.append(SOURCE.findall(reply))
    return cited, errors


@pytest.mark.skipif(not EVAL_CORPUS.exists(), reason="needs ../shared/eval (the evaluation data)")
def test_eight_sessions_at_once_with_an_ingest_running(tmp_path: Path):
    folder = tmp_path / "articles"
    folder.mkdir()
    for path in CORPUS.glob("*.md"):
        if path.name != "README.md":
            shutil.copy(path, folder)
    index = tmp_path / "index"
    rag_json("ingest", str(folder), "--index", str(index), "--no-progress")
    extra = tmp_path / "extra.jsonl"
    bundled = {p.stem for p in folder.glob("*.md")}  # their ids are held by those files
    fresh = [line for line in jsonl_lines(EVAL_CORPUS)[200:]
             if json.loads(line)["id"] not in bundled][:60]
    extra.write_text("\n".join(fresh) + "\n")

    with serving(index, log=tmp_path / "serve.log") as url:
        writer = subprocess.Popen([*RAG, "ingest", str(extra), "--index", str(index),
                                   "--no-progress", "--json"], cwd=REPO,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        asked = topics()
        with ThreadPoolExecutor(SESSIONS) as pool:
            answers = list(pool.map(lambda topic: converse(url, topic[1]), asked))
        out, _ = writer.communicate(timeout=600)
        ingested = json.loads(out)
        assert writer.returncode == 0 and ingested["failed"] == []
        assert ingested["added"] == 60

    mine = {article_id for article_id, _ in asked}
    crossed = 0
    errors = sum(e for _, e in answers)
    for (article_id, _), ((first, follow_up), _) in zip(asked, answers, strict=True):
        assert first and first[0] == article_id, f"the first answer should come from {article_id}"
        # a follow-up is scoped to this session's conversation: it may draw on any article
        # this session's first answer cited, never on one only another session asked about
        if follow_up and follow_up[0] in mine - set(first):
            crossed += 1
    assert crossed == 0, list(zip([a for a, _ in asked], [c for c, _ in answers], strict=True))
    info = rag_json("info", "--index", str(index), "--check")
    assert info["problems"] == [] and info["articles"] == 40 + ingested["added"]
    assert errors == 0
    record("concurrency", {"sessions": SESSIONS, "rounds": ROUNDS, "errors": errors,
                           "crossed_conversations": crossed,
                           "ingest_during_chat": "60 articles, index consistent"})
