"""The Gradio app: chat, articles, summaries and a source panel, over the public ``rag`` API.

Visitors are not trusted (see the README's threat model): every handler that takes their
input passes it through ``rag.VisitorPolicy`` before anything reads, writes or connects,
and each tab's builder below holds that tab's handlers, so they are easy to review.

Concurrency is set on purpose: chats run side by side (the local model itself serves one
request at a time behind a lock, retrieval does not wait for it), index writes (ingest,
remove) run one at a time in their own queue so a long ingest never holds up a chat, and
summarizing has a queue of its own. Each browser session keeps its own conversation.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from rag import Library, RagError, VisitorPolicy
from rag.answers import serving
from rag.answers.answer import turn
from rag.core.types import MAX_ARTICLES, MIN_ARTICLES
from rag.digest.feed import FEED
from ui import render

STATIC = Path(__file__).parent / "static"
LOCAL, SERVER = "local model", "OpenAI-compatible server"
Chat = list[dict[str, Any]]
TRACK_TQDM = gr.Progress(track_tqdm=True)  # as a default value it asks Gradio to show the bars


class Session:
    """What one browser session's settings turn into: a configured view of the library
    (cached, so switching back and forth costs nothing). Only passage counts and generator
    URLs the policy allows get this far."""

    def __init__(self, library: Library, policy: VisitorPolicy) -> None:
        self.library = library
        self.policy = policy
        self._cache = lru_cache(maxsize=8)(self._configure)

    def library_for(self, passages: float, backend: str, llm_url: str | None,
                    temperature: float) -> Library:
        url = self.policy.llm_url(llm_url or "") if backend == SERVER else ""
        if backend == SERVER and not url:
            raise RagError("choose one of the servers this app offers, or the local model")
        top_k = self.policy.k(passages, self.library.settings.top_k)
        return self._cache(top_k, url, round(min(max(float(temperature), 0.0), 1.5), 2))

    def _configure(self, passages: int, url: str, temperature: float) -> Library:
        s = self.library.settings
        if (passages, url, temperature) == (s.top_k, s.llm_url, s.temperature):
            return self.library
        return self.library.configured(top_k=passages, llm_url=url, temperature=temperature)


def _chat_tab(library: Library, session: Session) -> None:
    settings = library.settings

    def chat(message: str, shown: Chat, history: Chat, passages: float, backend: str,
             llm_url: str | None, temperature: float) -> Iterator[tuple[Chat, Chat, str]]:
        if not message.strip():
            yield shown, history, ""
            return
        shown = [*shown, {"role": "user", "content": render.escape(message[:500])},
                 {"role": "assistant", "content": "<i>Searching the articles…</i>"}]
        yield shown, history, ""
        answer = None
        try:
            lib = session.library_for(passages, backend, llm_url, temperature)
            when: dict[str, str] | None = None
            for answer in lib.ask_stream(session.policy.question(message), history):
                if when is None:  # the hits are fixed once retrieval is done
                    when = _dates(library, {h.chunk.article_id for h in answer.hits})
                shown[-1] = {"role": "assistant", "content": render.answer_html(answer, when)}
                yield shown, history, ""
        except RagError as err:
            shown[-1] = {"role": "assistant", "content": render.error_html(str(err))}
            yield shown, history, ""
            return
        if answer is not None:
            history = [*history, *turn(answer)]
        yield shown, history, ""

    conversation = gr.State([])
    chatbot = gr.Chatbot(label="Conversation", height=520, elem_id="chat", buttons=["copy"],
                         feedback_options=None)
    with gr.Row():
        question = gr.Textbox(placeholder="Which angiopoietins does the study focus on?",
                              show_label=False, scale=5, elem_id="question",
                              max_length=session.policy.max_question_chars)
        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
    clear = gr.Button("New conversation", size="sm")
    with gr.Accordion("Answer settings", open=True):
        with gr.Row():
            passages = gr.Slider(1, min(10, settings.max_k), value=settings.top_k, step=1,
                                 label="Passages retrieved")
            temperature = gr.Slider(0.0, 1.5, value=settings.temperature, step=0.1,
                                    label="Temperature")
        with gr.Row():
            servers = list(session.policy.llm_urls)
            backend = gr.Radio([LOCAL, SERVER] if servers else [LOCAL], label="Generator",
                               value=SERVER if settings.llm_url else LOCAL)
            # custom values reach Session.library_for, which refuses unlisted URLs itself
            llm_url = gr.Dropdown(servers, value=settings.llm_url or None,
                                  label="Server (OpenAI-compatible, as the operator listed)",
                                  visible=bool(servers), allow_custom_value=True)

    inputs = [question, chatbot, conversation, passages, backend, llm_url, temperature]
    outputs = [chatbot, conversation, question]
    # "/chat" is public so scripts (and the concurrency tests) can hold a conversation;
    # its history lives in the caller's session, like a browser tab's
    send.click(chat, inputs, outputs, api_name="chat", concurrency_limit=4,
               concurrency_id="chat")
    question.submit(chat, inputs, outputs, api_visibility="private", concurrency_limit=4,
                    concurrency_id="chat")
    clear.click(lambda: ([], []), None, [chatbot, conversation], api_visibility="private")


def _check_tab(library: Library, policy: VisitorPolicy) -> gr.Dropdown:
    """A statement checked against the articles: its status, the reason, the sentences.
    Returns the article picker, which the page load fills."""
    def check_in_tab(statement: str, article_id: str | None) -> str:
        try:
            result = library.check_statement(policy.question(statement), article_id or None)
        except RagError as err:
            return render.error_html(str(err))
        return render.check_html(result.to_dict())

    statement = gr.Textbox(label="A statement to check against the articles", lines=2,
                           placeholder="hUCMSCs restored ovarian function in women.",
                           elem_id="check-statement", max_length=policy.max_question_chars)
    article = gr.Dropdown(label="Only this article (optional)", elem_id="check-article")
    button = gr.Button("Check", variant="primary", elem_id="check")
    result = gr.HTML(elem_id="check-result")
    button.click(check_in_tab, [statement, article], result, api_visibility="private",
                 concurrency_limit=4, concurrency_id="chat")
    statement.submit(check_in_tab, [statement, article], result, api_visibility="private",
                     concurrency_limit=4, concurrency_id="chat")
    return article


def _compare_tab(library: Library, policy: VisitorPolicy) -> gr.Dropdown:
    """Articles side by side (``rag compare``). Returns the article picker, which the page
    load fills."""
    def compare_in_tab(article_ids: list[str] | None, question: str) -> str:
        try:
            table = library.compare(list(article_ids or []),
                                    policy.question(question) if question.strip() else "")
        except RagError as err:
            return render.error_html(str(err))
        return render.compare_html(table.to_dict())

    picked = gr.Dropdown(label=f"Articles to compare ({MIN_ARTICLES} to {MAX_ARTICLES})",
                         multiselect=True, max_choices=MAX_ARTICLES, elem_id="compare-articles")
    question = gr.Textbox(label="A point to compare first (optional)", elem_id="compare-question",
                          placeholder="How much did blood pressure fall?",
                          max_length=policy.max_question_chars)
    button = gr.Button("Compare", variant="primary", elem_id="compare")
    table = gr.HTML(elem_id="compare-table")
    button.click(compare_in_tab, [picked, question], table, api_visibility="private",
                 concurrency_limit=4, concurrency_id="chat")
    return picked


@dataclass
class _ArticlesTab:
    uploads: gr.File
    folder: gr.Textbox
    ingest: gr.Button
    report: gr.HTML
    table: gr.Dataframe
    to_remove: gr.Dropdown
    remove: gr.Button


def _articles_tab(policy: VisitorPolicy) -> _ArticlesTab:
    with gr.Row():
        uploads = gr.File(label="Upload articles (.txt .md .html .pdf .json .jsonl), at most "
                          f"{policy.max_upload_files} files of {policy.max_upload_bytes // 10**6}"
                          " MB", file_count="multiple", type="filepath", elem_id="uploads")
        folder = gr.Textbox(label="…or a file or folder in the library folders",
                            placeholder="corpus/", elem_id="folder")
    ingest = gr.Button("Ingest", variant="primary", elem_id="ingest")
    report = gr.HTML(elem_id="ingest-report")
    table = gr.Dataframe(headers=["id", "title", "date", "source", "passages"],
                         interactive=False, wrap=True, elem_id="articles")
    with gr.Row():
        to_remove = gr.Dropdown(label="Uploaded articles to remove (the operator's articles "
                                "are removed with 'rag remove')", multiselect=True, scale=4)
        remove = gr.Button("Remove", variant="stop", scale=1)
    return _ArticlesTab(uploads, folder, ingest, report, table, to_remove, remove)


def _wire_articles(library: Library, policy: VisitorPolicy, tab: _ArticlesTab,
                   listing: list[Any]) -> None:
    def ingest(files: list[str] | None, folder: str,
               progress: gr.Progress = TRACK_TQDM) -> tuple[Any, ...]:
        try:
            paths = policy.store_uploads([Path(f) for f in files or []],
                                        Path(get_upload_folder()))
            paths += [policy.ingest_path(folder)] if folder.strip() else []
            if not paths:
                raise RagError("upload files or give a folder in the library first")
            report = library.ingest(paths, progress=True, within=list(policy.roots))
        except RagError as err:
            return (render.error_html(str(err)), *_listing(library))
        return (render.ingest_report_html(report), *_listing(library))

    def remove(article_ids: list[str]) -> tuple[Any, ...]:
        if not article_ids:
            return (render.error_html("choose the articles to remove"), *_listing(library))
        try:
            outcome = library.remove(policy.removable(article_ids))
        except RagError as err:
            return (render.error_html(str(err)), *_listing(library))
        return (f"<p>Removed {outcome['removed']} article(s).</p>", *_listing(library))

    writes = {"api_visibility": "private", "concurrency_limit": 1, "concurrency_id": "write"}
    tab.ingest.click(ingest, [tab.uploads, tab.folder], [tab.report, *listing], **writes)
    tab.remove.click(remove, tab.to_remove, [tab.report, *listing], **writes)


@dataclass
class _SummariesTab:
    to_summarize: gr.Dropdown
    shown: gr.Dropdown
    latest_digest: Callable[[], tuple[str, list[str]]]
    digest: list[gr.components.Component]  # what latest_digest fills: the page, its files


_NAMED_IN_STATUS = 5
"""A batch's status names this many of the articles it summarized, so a reader sees which."""


def _summaries_tab(library: Library) -> _SummariesTab:
    def summarize(article_ids: list[str] | None,
                  progress: gr.Progress = TRACK_TQDM) -> tuple[Any, ...]:
        try:
            report = library.summarize(article_ids, progress=True)
        except RagError as err:
            return render.error_html(str(err)), gr.update()
        done = [s.article_id for s in report.summaries]
        named = ", ".join(done[:_NAMED_IN_STATUS]) + (", …" if len(done) > _NAMED_IN_STATUS
                                                       else "")
        lines = [f"Summarized {len(done)} article(s)" + (f" ({named})" if done else "")
                 + f" in {report.seconds:.0f} s; {len(report.skipped)} already current."]
        lines += [f"{f.path}: {f.reason}" for f in report.failed]
        html = "<br>".join(render.escape(line) for line in lines)
        return html, gr.update(choices=library.summarized(), value=done[0] if done else None)

    def summarize_all(progress: gr.Progress = TRACK_TQDM) -> tuple[Any, ...]:
        return summarize(None)

    def show(article_id: str | None) -> tuple[str, list[str]]:
        if not article_id:
            return "", []
        try:
            summary = library.summary(article_id)
            if summary is None:
                return render.error_html(f"{article_id} has no summary yet"), []
            files = [str(p) for p in library.summary_files(article_id)]
        except RagError as err:
            return render.error_html(str(err)), []
        return render.summary_html(summary), files

    to_summarize = gr.Dropdown(label="Articles to summarize", multiselect=True,
                               elem_id="summarize-choice")
    with gr.Row():
        selected = gr.Button("Summarize selected", elem_id="summarize-selected")
        new = gr.Button("Summarize all new", variant="primary")
    status = gr.HTML(elem_id="summarize-status")
    shown = gr.Dropdown(label="Show the summary of")
    view = gr.HTML(elem_id="summary")
    downloads = gr.File(label="Download (Markdown, JSON)", file_count="multiple",
                        interactive=False)
    # "multiple": with the default ("once") a second click after switching tabs was dropped,
    # the first run still counting as pending in the browser; a repeat run finds all current
    queue = {"api_visibility": "private", "concurrency_limit": 1, "concurrency_id": "summarize",
             "trigger_mode": "multiple"}
    selected.click(summarize, to_summarize, [status, shown], **queue)
    new.click(summarize_all, None, [status, shown], **queue)
    shown.change(show, shown, [view, downloads], api_visibility="private")
    return _SummariesTab(to_summarize, shown, *_digest_panel(library, queue))


def _digest_panel(library: Library, queue: dict[str, Any]
                  ) -> tuple[Callable[[], tuple[str, list[str]]], list[gr.components.Component]]:
    """The latest digest (its self-contained page, in a sandboxed frame, so its span links
    work as they do offline) and a button that makes one of the new articles. Returns what
    reads the latest digest and the components it fills, for the page load."""
    def latest() -> tuple[str, list[str]]:
        page = library.latest_digest()
        if page is None:
            return "<p>No digest yet.</p>", []
        files = [p for p in (page, page.with_suffix(".md")) if p.exists()]  # .md may be gone
        return render.digest_frame(page.read_text()), [str(p) for p in files]

    def make(progress: gr.Progress = TRACK_TQDM) -> tuple[str, str, list[str]]:
        try:
            report = library.digest(new=True, progress=True)
        except RagError as err:
            return render.error_html(str(err)), *latest()
        return f"<p>{render.escape(report.message)}</p>", *latest()

    feed = (library.digests_folder / FEED).resolve()
    gr.Markdown("### Digest of new articles\nEvery digest is also an entry of a feed: "
                f"[subscribe in a feed reader](/gradio_api/file={feed}) (Atom).",
                elem_id="digest-feed")
    button = gr.Button("Make a digest of new articles", elem_id="make-digest")
    status = gr.HTML()
    view = gr.HTML(elem_id="digest")
    downloads = gr.File(label="Download the digest (HTML, Markdown)", file_count="multiple",
                        interactive=False, elem_id="digest-files")
    button.click(make, None, [status, view, downloads], **queue)
    return latest, [view, downloads]


def _sources_tab(library: Library) -> None:
    """What ``rag watch`` follows and how each source fared, for everyone to read; only the
    operator adds, removes or runs sources (``rag watch`` on the server): a visitor never makes
    the server fetch anything."""
    def rows() -> list[list[Any]]:
        return [[s.kind, s.location if s.kind != "files" else Path(s.location).name,
                 f"{s.every_s:g} s", s.last_run or "not yet", s.last_result or "",
                 time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(s.next_run))
                 if s.next_run else "at the next run"]
                for s in library.watched()]

    gr.Markdown("### Followed sources\nFeeds, pages and folders the operator follows with "
                "`rag watch` (new and changed articles are taken on a schedule and a digest "
                "is written when something arrived). Sources are added and removed on the "
                "server.")
    # a callable value is read again on every page load
    table = gr.Dataframe(value=rows, headers=["kind", "source", "every", "last run", "found",
                                              "next"], interactive=False, wrap=True,
                         elem_id="sources")
    refresh = gr.Button("Refresh", elem_id="sources-refresh")
    refresh.click(rows, None, table, api_visibility="private")


def _source_panel(library: Library) -> None:
    def open_source(request: str) -> str:
        try:
            article_id, start, end = render.parse_source_request(request)
        except ValueError:
            return render.error_html("that link does not point at an article passage")
        article = library.article(article_id)
        if article is None:
            return render.error_html(f"article {article_id} is no longer in the index")
        return render.source_panel(article, start, end, library.versions(article.id))

    gr.Markdown("### Source\nClick a citation such as [1] to see it in its article.")
    source = gr.HTML(elem_id="source-panel")
    request = gr.Textbox(visible="hidden", elem_id="source-request")
    button = gr.Button(visible="hidden", elem_id="source-open")
    button.click(open_source, request, source, api_visibility="private", concurrency_limit=8,
                 concurrency_id="read").then(None, None, None,
                                             js="() => window.ragScrollToCitation()")


def _api(library: Library, policy: VisitorPolicy) -> None:
    def ask_api(question: str) -> dict[str, Any]:
        """Answer a question from the articles; the same JSON as `rag ask --json`."""
        try:
            return library.ask(policy.question(question)).to_dict()
        except RagError as err:
            raise gr.Error(str(err)) from None

    def search_api(query: str) -> dict[str, Any]:
        """Passages matching a query; the same JSON as `rag search --json`."""
        try:
            return {"hits": [hit.to_dict() for hit in library.search(policy.question(query))]}
        except RagError as err:
            raise gr.Error(str(err)) from None

    def check_api(statement: str) -> dict[str, Any]:
        """Whether the articles bear out a statement; the same JSON as `rag check --json`."""
        try:
            return library.check_statement(policy.question(statement)).to_dict()
        except RagError as err:
            raise gr.Error(str(err)) from None

    gr.api(ask_api, api_name="ask", concurrency_limit=4, concurrency_id="chat")
    gr.api(search_api, api_name="search", concurrency_limit=8, concurrency_id="read")
    gr.api(check_api, api_name="check", concurrency_limit=4, concurrency_id="chat")


def _dates(library: Library, article_ids: set[str]) -> dict[str, str]:
    found = {a: library.article(a) for a in article_ids}
    return {a: article.date for a, article in found.items() if article and article.date}


def _listing(library: Library) -> tuple[Any, ...]:
    """The article table, the article pickers, the summary picker, the status line, the
    check tab's and the compare tab's article pickers."""
    articles = library.articles()
    rows = [[a.id, a.title, a.date, a.source, a.chunks] for a in articles]
    choices = [(f"{a.title or a.id} ({a.id})", a.id) for a in articles]
    info = library.info()
    status = (f"{info['articles']} articles · {info['chunks']} passages · embedder "
              f"{info['embedder']} · local model {library.settings.generator}")
    uploaded = [c for c in choices if VisitorPolicy.may_remove(c[1])]
    return (rows, gr.update(choices=uploaded, value=[]), gr.update(choices=choices, value=[]),
            gr.update(choices=library.summarized()), status,
            gr.update(choices=[("All articles", ""), *choices], value=""),
            gr.update(choices=choices, value=[]))


def build_app(library: Library, policy: VisitorPolicy) -> gr.Blocks:
    with gr.Blocks(title="Article Q&A") as app:
        gr.Markdown("# Article Q&A\nAsk questions about your articles; every claim links to "
                    "the passage it rests on.")
        status_line = gr.Markdown()
        with gr.Row():
            with gr.Column(scale=3), gr.Tabs():
                with gr.Tab("Chat"):
                    _chat_tab(library, Session(library, policy))
                with gr.Tab("Articles"):
                    articles = _articles_tab(policy)
                with gr.Tab("Summaries"):
                    summaries = _summaries_tab(library)
                with gr.Tab("Check a statement"):
                    check_article = _check_tab(library, policy)
                with gr.Tab("Compare"):
                    compare_articles = _compare_tab(library, policy)
                with gr.Tab("Sources"):
                    _sources_tab(library)
            with gr.Column(scale=2):
                _source_panel(library)
        listing = [articles.table, articles.to_remove, summaries.to_summarize, summaries.shown,
                   status_line, check_article, compare_articles]
        _wire_articles(library, policy, articles, listing)
        _api(library, policy)
        app.load(lambda: _listing(library), None, listing, api_visibility="private")
        app.load(summaries.latest_digest, None, summaries.digest, api_visibility="private")
    return app


def launch(library: Library, host: str = "127.0.0.1", port: int = 7860,
           auth: tuple[str, str] | None = None) -> None:
    """Serve until interrupted. Models load before the first request, not during it. Only
    the summaries and digests folders are served as files (wherever the index lives);
    uploads are capped at the policy's size. While it serves, a note in the index folder
    lets ``rag ask`` on the same index send its questions here (``rag.answers.serving``)."""
    library.embedder  # noqa: B018 - load now: the first question should not pay for it
    policy = VisitorPolicy.from_settings(library.settings)
    app = build_app(library, policy)
    app.queue(default_concurrency_limit=2)
    app.launch(server_name=host, server_port=port, show_error=True, auth=auth,
               allowed_paths=[str(library.summaries_folder.resolve()),
                              str(library.digests_folder.resolve())],
               max_file_size=policy.max_upload_bytes,
               css_paths=[STATIC / "app.css"],
               head=f"<script>{(STATIC / 'app.js').read_text()}</script>",
               footer_links=["api"], prevent_thread_lock=True)
    # SIGTERM (a service manager's stop) ends it like Ctrl-C: the server closes and the note
    # goes
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with serving.announced(library.settings.index, host, app.server_port or port,
                           login=auth is not None):
        app.block_thread()
