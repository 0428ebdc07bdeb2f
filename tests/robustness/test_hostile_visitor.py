"""A web visitor of a shared ``rag serve`` tries to read, write and call what the operator did
not allow, through the browser and through the API. Each attack is refused with nothing read,
written or sent; the outcomes go to tests/artifacts/robustness.json (docs/sharing.md quotes them).

One real server: --auth on, one library folder, the operator's generator server with an API
key, a second server the operator allows visitors to pick, uploads capped at 1 MB. Both
"generator servers" are local listeners that record every request they get.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag.sources.corpus import UPLOAD_PREFIX, safe_article_id
from tests.conftest import SAMPLE
from tests.e2e.conftest import ARTIFACTS, uploaded
from tests.listeners import CompletionServer
from tests.processes import rag_json, serving, wait_until
from tests.robustness.conftest import record

pytestmark = [pytest.mark.integration, pytest.mark.robustness, pytest.mark.e2e]
USER, PASSWORD = "alice", "wonderland"
OPERATOR_KEY = "sk-operator-secret-4242"
SECRET = "The vault combination is 31-41-59"
QUESTION = "Which angiopoietins does the study focus on?"
DRAFT = ("## Overview\nThe study found that hUCMSCs restored ovarian function in POI rats.\n"
         "## Key findings\n- Angiopoietin 1 and 2 were rebalanced.")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("shared")
    library, private = root / "library", root / "private"
    library.mkdir()
    private.mkdir()
    shutil.copy(SAMPLE, library)
    (private / "secret.txt").write_text(f"Private notes. {SECRET}. Keep this file safe.\n")
    index = root / "index"
    rag_json("ingest", str(library), "--index", str(index), "--no-progress")
    operator, visitor = CompletionServer(DRAFT), CompletionServer(DRAFT)
    env = {"RAG_LLM_API_KEY": OPERATOR_KEY, "RAG_MAX_UPLOAD_MB": "1"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        with serving(index, "--auth", f"{USER}:{PASSWORD}", "--library", str(library),
                     "--llm-url", operator.url, "--allow-llm-url", visitor.url,
                     log=ARTIFACTS / "rag-serve-hostile.log", env=env) as url:
            yield {"url": url, "root": root, "index": index, "private": private,
                   "operator": operator, "visitor": visitor, "outcomes": {}}
    finally:
        operator.close()
        visitor.close()


def client(url: str):
    from gradio_client import Client

    return Client(url, auth=(USER, PASSWORD), verbose=False)  # a default client otherwise


@pytest.fixture(scope="module")
def page(site, browser):
    """A logged-in browser session on the shared app (the session's one Chromium)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(site["url"])
    page.locator("input[type=password]").wait_for(timeout=60_000)  # Gradio's login page
    page.locator("input[type=text]").first.fill(USER)
    page.locator("input[type=password]").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#question textarea", timeout=60_000)
    page.get_by_role("tab", name="Articles").click()
    yield page
    context.close()


def ingest_in_browser(page, folder: str = "", upload: list[Path] | None = None) -> str:
    """Fill the Articles tab, press Ingest, and return the report once it changes."""
    page.get_by_role("tab", name="Articles").click()  # whichever tab an earlier test left
    report = page.locator("#ingest-report")
    before = report.inner_text()
    page.locator("#folder textarea, #folder input").first.fill(folder)
    if upload:
        page.locator("#uploads input[type=file]").set_input_files([str(p) for p in upload])
        for path in upload:
            uploaded(page, path.name)
    page.locator("#ingest").click()
    seen = []

    def done() -> bool:  # the report itself, not Gradio's progress text over it
        seen.append(report.inner_text())
        progress = re.search(r"processing|\||^[\d./ ]+s$", seen[-1], re.M)
        return seen[-1] != before and ("⚠" in seen[-1] or "Added" in seen[-1]) \
            and not progress

    wait_until(done, 180, "the ingest report")
    return seen[-1]


def searchable(site, text: str) -> bool:
    hits = client(site["url"]).predict(text, api_name="/search")["hits"]
    return any(text.lower() in h["text"].lower() for h in hits)


def test_path_ingest_outside_the_library_reads_nothing(site, page):
    said = [ingest_in_browser(page, folder=str(p)) for p in
            (site["private"], site["private"] / "secret.txt", site["private"] / "missing.txt",
             Path(site["root"] / "library" / ".." / "private"))]
    assert all("not inside the library folders" in s for s in said), said
    reasons = {s[s.index("⚠"):].split(": ", 1)[1] for s in said}  # after the path named
    assert len(reasons) == 1, f"existing and missing paths must look alike: {reasons}"
    assert not searchable(site, "vault combination")
    site["outcomes"]["path ingest outside the library (folder, file, missing file, ../)"] = \
        f"refused {len(said)}/4 with one message; secret found by /search: no"


def test_a_symlink_inside_the_library_to_a_private_file_is_refused(site, page):
    link = site["root"] / "library" / "notes.txt"
    link.symlink_to(site["private"] / "secret.txt")
    said = ingest_in_browser(page, folder=str(site["root"] / "library"))
    assert "notes.txt" in said and "not inside the library folders" in said
    assert not searchable(site, "vault combination")
    site["outcomes"]["symlink in the library pointing at a private file"] = \
        "refused; secret found by /search: no"


@pytest.mark.parametrize("kind", ["../", "absolute"])
def test_hostile_article_ids_write_nothing_outside_the_summaries_folder(site, page, kind,
                                                                       tmp_path: Path):
    target = site["root"] / "escape"
    given = str(target / "pwned") if kind == "absolute" else "../../../escape/pwned"
    upload = tmp_path / f"hostile-{'abs' if kind == 'absolute' else 'rel'}.md"
    upload.write_text(f"---\nid: '{given}'\ntitle: Hostile id\n---\nZebrafish regrow fins "
                      "within two weeks through a blastema of dedifferentiated cells.\n")
    said = ingest_in_browser(page, upload=[upload])
    safe = safe_article_id(UPLOAD_PREFIX + safe_article_id(given))
    assert "Stored under the id" in said and given in said and safe in said, said
    before = {p for p in site["root"].rglob("*")}
    summaries = site["index"] / "summaries"
    page.get_by_role("tab", name="Summaries").click()
    page.locator("#summarize-choice").wait_for(state="visible")
    page.get_by_role("button", name="Summarize all new").click()
    # the batch is over before the test ends (its status names this upload, which no earlier
    # batch summarized): no later test meets it still running
    status = page.locator("#summarize-status")
    wait_until(lambda: re.search(rf"Summarized \d+ article\(s\) \([^)]*{re.escape(safe)}",
                                 status.inner_text()) is not None, 180, "this batch's status")
    assert (summaries / f"{safe}.json").exists()  # under its safe id
    written = {p for p in site["root"].rglob("*")} - before
    outside = [p for p in written if not p.resolve().is_relative_to(summaries.resolve())]
    assert not target.exists() and outside == [], outside
    site["outcomes"][f"front-matter id {kind}"] = \
        f"replaced by a safe id; files written outside the summaries folder: {len(outside)}"


def test_an_upload_cannot_replace_a_library_article_or_another_upload(site, page,
                                                                      tmp_path: Path):
    impostor = tmp_path / SAMPLE.name  # the operator's article's file name, and so its id
    impostor.write_text("Ovaries are made of cheese, a new study claims. " * 3)
    said = ingest_in_browser(page, upload=[impostor])
    assert f"{UPLOAD_PREFIX}{SAMPLE.stem}" in said, said
    assert searchable(site, "angiopoietin 1 and 2")  # the operator's article is intact
    assert searchable(site, "Ovaries are made of cheese")  # beside it, under its own id
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "my article.md", tmp_path / "b" / "my-article.md"
    first.write_text("Walruses sing to each other under the winter sea ice.\n")
    second.write_text("Emperor penguins huddle in rotating circles to share warmth.\n")
    said = [ingest_in_browser(page, upload=[path]) for path in (first, second)]
    assert f"{UPLOAD_PREFIX}my-article-2" in said[1], said
    stored = sorted(p.name for p in (site["index"] / "uploads").glob("my-article*"))
    assert stored == ["my-article-2.md", "my-article.md"]
    assert searchable(site, "Walruses sing") and searchable(site, "penguins huddle")
    site["outcomes"]["upload named like a library article, and two names that sanitize "
                     "alike"] = ("each stored under its own upload- id; the operator's "
                                 "article and the first upload intact")


def test_a_visitor_chosen_generator_url_gets_no_request_and_no_key(site):
    bot = client(site["url"])
    stranger = CompletionServer(DRAFT)  # a server the operator never listed
    shown, _ = bot.predict(QUESTION, [], 5, "OpenAI-compatible server", stranger.url, 0.0,
                           api_name="/chat")
    stranger.close()
    assert "operator listed" in json.dumps(shown[-1]["content"])
    assert stranger.requests == []
    # an allowed server the visitor picks is used, but never with the operator's key
    shown, _ = bot.predict(QUESTION, [], 5, "OpenAI-compatible server", site["visitor"].url,
                           0.0, api_name="/chat")
    assert site["visitor"].requests, "the allowed server was used"
    assert not any(OPERATOR_KEY in k for k in site["visitor"].keys_seen())
    bot.predict(QUESTION, api_name="/ask")  # the operator's own server gets the key
    assert any(OPERATOR_KEY in k for k in site["operator"].keys_seen())
    site["outcomes"]["visitor-set generator URL not listed by the operator"] = \
        f"refused; requests it received: {len(stranger.requests)}"
    site["outcomes"]["visitor picks a URL the operator allowed"] = \
        (f"{len(site['visitor'].requests)} request(s), operator's key in them: no "
         "(the operator's own server did get it)")


def test_oversized_uploads_are_refused(site, page, tmp_path: Path):
    big = tmp_path / "big-article.txt"
    big.write_text("Zebrafish fins regrow. " * 60_000)  # about 1.4 MB
    with httpx.Client(base_url=site["url"]) as http:
        http.post("login", data={"username": USER, "password": PASSWORD})
        answered = http.post("gradio_api/upload", files={"files": big.open("rb")})
    assert answered.status_code == 413, answered.text
    page.locator("#uploads input[type=file]").set_input_files(str(big))
    page.get_by_text("exceed the maximum allowed size").first.wait_for(timeout=30_000)
    assert not (site["index"] / "uploads" / big.name).exists()
    site["outcomes"]["upload over the 1 MB limit"] = \
        f"HTTP {answered.status_code} from the upload route; the browser shows the limit"


def test_without_login_the_api_and_files_answer_nothing(site):
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    with pytest.raises(AuthenticationError, match="credentials were not provided"):
        Client(site["url"], verbose=False)
    summaries = site["index"] / "summaries"
    summaries.mkdir(exist_ok=True)
    served = summaries / "probe.json"  # a file the app serves, to logged-in visitors only
    served.write_text('{"article_id": "probe"}')
    statuses = {}
    with httpx.Client(base_url=site["url"]) as http:
        for route in ("gradio_api/info", "gradio_api/call/ask", "gradio_api/call/search",
                      "gradio_api/call/chat", "gradio_api/call/check"):
            statuses[route] = http.post(route, json={"data": [QUESTION]}).status_code \
                if "call" in route else http.get(route).status_code
        statuses["summary download"] = http.get(f"gradio_api/file={served.resolve()}"
                                                ).status_code
        assert all(code in (401, 403) for code in statuses.values()), statuses
        http.post("login", data={"username": USER, "password": PASSWORD})
        assert http.get(f"gradio_api/file={served.resolve()}").status_code == 200
    assert client(site["url"]).predict(QUESTION, api_name="/ask")["answer"]  # with login: yes
    site["outcomes"]["API and downloads without login"] = \
        "refused: " + ", ".join(f"{r} {c}" for r, c in statuses.items())


def test_a_heading_of_spaces_does_not_stall_another_visitors_search(site, page,
                                                                    tmp_path: Path):
    """A 3 KB Markdown heading of spaces once held the interpreter for 19 s in a pattern's
    backtracking, and every other visitor's request with it."""
    upload = tmp_path / "heading-of-spaces.md"
    upload.write_text("# x" + " " * 3000 + "y\n\nZebrafish hearts regrow after a cut.\n")
    bot = client(site["url"])
    timings: list[float] = []
    done = threading.Event()

    def search_meanwhile() -> None:
        while not done.is_set():
            started = time.perf_counter()
            bot.predict("angiopoietin balance", api_name="/search")
            timings.append(time.perf_counter() - started)

    searcher = threading.Thread(target=search_meanwhile)
    searcher.start()
    try:
        said = ingest_in_browser(page, upload=[upload])
    finally:
        done.set()
        searcher.join()
    assert "Added 1" in said, said
    assert timings and max(timings) < 5.0, timings
    assert searchable(site, "Zebrafish hearts regrow")
    site["outcomes"]["3 KB heading of spaces uploaded while another visitor searches"] = \
        (f"ingested; {len(timings)} searches meanwhile, slowest "
         f"{max(timings):.2f} s")


def test_record_outcomes(site):
    assert len(site["outcomes"]) == 10, site["outcomes"]
    record("hostile_visitor", site["outcomes"])
