"""The Gradio app: chat, articles, summaries and a source panel, over ``rag.Library`` only.

Concurrency is set on purpose: chats run side by side (the local model itself serves one
request at a time behind a lock, retrieval does not wait for it), index writes (ingest,
remove) run one at a time in their own queue so a long ingest never holds up a chat, and
summarizing has a queue of its own. Each browser session keeps its own conversation.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import gradio as gr

from rag import Library, RagError
from ui import render

STATIC = Path(__file__).parent / "static"
LOCAL, SERVER = "local model", "OpenAI-compatible server"
Chat = list[dict[str, Any]]
TRACK_TQDM = gr.Progress(track_tqdm=True)  # as a default value it asks Gradio to show the bars


class Session:
    """What one browser session's settings turn into: a configured view of the library
    (cached, so switching back and forth costs nothing)."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._cache = lru_cache(maxsize=8)(self._configure)

    def library_for(self, passages: float, backend: str, llm_url: str,
                    temperature: float) -> Library:
        url = llm_url.strip() if backend == SERVER else ""
        if backend == SERVER and not url:
            raise RagError("give the server's URL (e.g. http://127.0.0.1:8080/v1) or choose "
                           "the local model")
        return self._cache(int(passages), url, round(float(temperature), 2))

    def _configure(self, passages: int, url: str, temperature: float) -> Library:
        s = self.library.settings
        if (passages, url, temperature) == (s.top_k, s.llm_url, s.temperature):
            return self.library
        return self.library.configured(top_k=passages, llm_url=url, temperature=temperature)


def build_app(library: Library) -> gr.Blocks:
    session = Session(library)
    settings = library.settings

    def dates(article_ids: set[str]) -> dict[str, str]:
        found = {a: library.article(a) for a in article_ids}
        return {a: article.date for a, article in found.items() if article and article.date}

    def chat(message: str, shown: Chat, history: Chat, passages: float, backend: str,
             llm_url: str, temperature: float) -> Iterator[tuple[Chat, Chat, str]]:
        if not message.strip():
            yield shown, history, ""
            return
        shown = [*shown, {"role": "user", "content": render.escape(message)},
                 {"role": "assistant", "content": "<i>Searching the articles…</i>"}]
        yield shown, history, ""
        answer = None
        try:
            lib = session.library_for(passages, backend, llm_url, temperature)
            when: dict[str, str] | None = None
            for answer in lib.ask_stream(message, history):
                if when is None:  # the hits are fixed once retrieval is done
                    when = dates({h.chunk.article_id for h in answer.hits})
                shown[-1] = {"role": "assistant", "content": render.answer_html(answer, when)}
                yield shown, history, ""
        except RagError as err:
            shown[-1] = {"role": "assistant", "content": render.error_html(str(err))}
            yield shown, history, ""
            return
        if answer is not None:
            history = [*history, {"role": "user", "content": message},
                       {"role": "assistant", "content": answer.answer,
                        "sources": sorted({c.article_id for c in answer.citations})}]
        yield shown, history, ""

    def open_source(request: str) -> str:
        try:
            article_id, start, end = render.parse_source_request(request)
        except ValueError:
            return render.error_html("that link does not point at an article passage")
        article = library.article(article_id)
        if article is None:
            return render.error_html(f"article {article_id} is no longer in the index")
        return render.source_panel(article, start, end)

    def refreshed() -> tuple[Any, ...]:
        """The article table, both article pickers, the summary picker and the status line."""
        articles = library.articles()
        rows = [[a.id, a.title, a.date, a.source, a.chunks] for a in articles]
        choices = [(f"{a.title or a.id} ({a.id})", a.id) for a in articles]
        return (rows, gr.update(choices=choices, value=[]),
                gr.update(choices=choices, value=[]),
                gr.update(choices=library.summarized()), status())

    def ingest(files: list[str] | None, folder: str,
               progress: gr.Progress = TRACK_TQDM) -> tuple[Any, ...]:
        paths = [Path(f) for f in files or []]
        paths += [Path(folder.strip())] if folder.strip() else []
        if not paths:
            return (render.error_html("upload files or give a folder path first"), *refreshed())
        missing = [p for p in paths if not p.exists()]
        if missing:
            return (render.error_html(f"{missing[0]} does not exist on this computer"),
                    *refreshed())
        try:
            report = library.ingest(paths, progress=True)
        except RagError as err:
            return (render.error_html(str(err)), *refreshed())
        return (render.ingest_report_html(report), *refreshed())

    def remove(article_ids: list[str]) -> tuple[Any, ...]:
        if not article_ids:
            return (render.error_html("choose the articles to remove"), *refreshed())
        outcome = library.remove(article_ids)
        return (f"<p>Removed {outcome['removed']} article(s).</p>", *refreshed())

    def summarize(article_ids: list[str] | None,
                  progress: gr.Progress = TRACK_TQDM) -> tuple[Any, ...]:
        try:
            report = library.summarize(article_ids, progress=True)
        except RagError as err:
            return render.error_html(str(err)), gr.update()
        done = [s.article_id for s in report.summaries]
        lines = [f"Summarized {len(done)} article(s) in {report.seconds:.0f} s; "
                 f"{len(report.skipped)} already current."]
        lines += [f"{f.path}: {f.reason}" for f in report.failed]
        html = "<br>".join(render.escape(line) for line in lines)
        return html, gr.update(choices=library.summarized(), value=done[0] if done else None)

    def summarize_all(progress: gr.Progress = TRACK_TQDM) -> tuple[Any, ...]:
        return summarize(None)

    def show_summary(article_id: str | None) -> tuple[str, list[str]]:
        if not article_id:
            return "", []
        try:
            summary = library.summary(article_id)
        except RagError as err:
            return render.error_html(str(err)), []
        if summary is None:
            return render.error_html(f"{article_id} has no summary yet"), []
        return render.summary_html(summary), [str(p) for p in library.summary_files(article_id)]

    def status() -> str:
        info = library.info()
        return (f"{info['articles']} articles · {info['chunks']} passages · embedder "
                f"{info['embedder']} · local model {settings.generator}")

    def ask_api(question: str) -> dict[str, Any]:
        """Answer a question from the articles; the same JSON as `rag ask --json`."""
        return library.ask(question).to_dict()

    def search_api(query: str) -> dict[str, Any]:
        """Passages matching a query; the same JSON as `rag search --json`."""
        return {"hits": [hit.to_dict() for hit in library.search(query)]}

    with gr.Blocks(title="Article Q&A") as app:
        gr.Markdown("# Article Q&A\nAsk questions about your articles; every claim links to "
                    "the passage it rests on.")
        status_line = gr.Markdown()
        conversation = gr.State([])
        with gr.Row():
            with gr.Column(scale=3), gr.Tabs():
                with gr.Tab("Chat"):
                    chatbot = gr.Chatbot(label="Conversation", height=520, elem_id="chat",
                                         buttons=["copy"], feedback_options=None)
                    with gr.Row():
                        question = gr.Textbox(placeholder="Which angiopoietins does the study "
                                              "focus on?", show_label=False, scale=5,
                                              elem_id="question")
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                    clear = gr.Button("New conversation", size="sm")
                    with gr.Accordion("Answer settings", open=True):
                        with gr.Row():
                            passages = gr.Slider(1, 10, value=settings.top_k, step=1,
                                                 label="Passages retrieved")
                            temperature = gr.Slider(0.0, 1.5, value=settings.temperature,
                                                    step=0.1, label="Temperature")
                        with gr.Row():
                            backend = gr.Radio([LOCAL, SERVER], label="Generator",
                                               value=SERVER if settings.llm_url else LOCAL)
                            llm_url = gr.Textbox(value=settings.llm_url, label="Server URL "
                                                 "(OpenAI-compatible, e.g. llama.cpp, vLLM, "
                                                 "Ollama)", placeholder="http://127.0.0.1:8080/v1")
                with gr.Tab("Articles"):
                    with gr.Row():
                        uploads = gr.File(label="Upload articles (.txt .md .html .pdf .json "
                                          ".jsonl)", file_count="multiple", type="filepath",
                                          elem_id="uploads")
                        folder = gr.Textbox(label="…or a file or folder on this computer",
                                            placeholder="corpus/")
                    ingest_button = gr.Button("Ingest", variant="primary", elem_id="ingest")
                    ingest_report = gr.HTML(elem_id="ingest-report")
                    table = gr.Dataframe(headers=["id", "title", "date", "source", "passages"],
                                         interactive=False, wrap=True, elem_id="articles")
                    with gr.Row():
                        to_remove = gr.Dropdown(label="Articles to remove", multiselect=True,
                                                scale=4)
                        remove_button = gr.Button("Remove", variant="stop", scale=1)
                with gr.Tab("Summaries"):
                    to_summarize = gr.Dropdown(label="Articles to summarize", multiselect=True,
                                               elem_id="summarize-choice")
                    with gr.Row():
                        summarize_selected = gr.Button("Summarize selected",
                                                       elem_id="summarize-selected")
                        summarize_new = gr.Button("Summarize all new", variant="primary")
                    summary_status = gr.HTML()
                    shown_summary = gr.Dropdown(label="Show the summary of")
                    summary_view = gr.HTML(elem_id="summary")
                    downloads = gr.File(label="Download (Markdown, JSON)", file_count="multiple",
                                        interactive=False)
            with gr.Column(scale=2):
                gr.Markdown("### Source\nClick a citation such as [1] to see it in its article.")
                source = gr.HTML(elem_id="source-panel")
                source_request = gr.Textbox(visible="hidden", elem_id="source-request")
                source_open = gr.Button(visible="hidden", elem_id="source-open")

        chat_inputs = [question, chatbot, conversation, passages, backend, llm_url, temperature]
        chat_outputs = [chatbot, conversation, question]
        # "/chat" is public so scripts (and the concurrency tests) can hold a conversation;
        # its history lives in the caller's session, like a browser tab's
        send.click(chat, chat_inputs, chat_outputs, api_name="chat", concurrency_limit=4,
                   concurrency_id="chat")
        question.submit(chat, chat_inputs, chat_outputs, api_visibility="private",
                        concurrency_limit=4, concurrency_id="chat")
        clear.click(lambda: ([], [], ""), None, [chatbot, conversation, source],
                    api_visibility="private")
        source_open.click(open_source, source_request, source, api_visibility="private",
                          concurrency_limit=8, concurrency_id="read").then(
            None, None, None, js="() => window.ragScrollToCitation()")

        listing = [table, to_remove, to_summarize, shown_summary, status_line]
        ingest_button.click(ingest, [uploads, folder], [ingest_report, *listing],
                            api_visibility="private", concurrency_limit=1,
                            concurrency_id="write")
        remove_button.click(remove, to_remove, [ingest_report, *listing],
                            api_visibility="private", concurrency_limit=1,
                            concurrency_id="write")
        summary_outputs = [summary_status, shown_summary]
        summarize_selected.click(summarize, to_summarize, summary_outputs,
                                 api_visibility="private", concurrency_limit=1,
                                 concurrency_id="summarize")
        summarize_new.click(summarize_all, None, summary_outputs, api_visibility="private",
                            concurrency_limit=1, concurrency_id="summarize")
        shown_summary.change(show_summary, shown_summary, [summary_view, downloads],
                             api_visibility="private")

        gr.api(ask_api, api_name="ask", concurrency_limit=4, concurrency_id="chat")
        gr.api(search_api, api_name="search", concurrency_limit=8, concurrency_id="read")
        app.load(refreshed, None, listing, api_visibility="private")
    return app


def launch(library: Library, host: str = "127.0.0.1", port: int = 7860,
           auth: tuple[str, str] | None = None) -> None:
    """Serve until interrupted. Models load before the first request, not during it."""
    library.embedder  # noqa: B018 - load now: the first question should not pay for it
    app = build_app(library)
    app.queue(default_concurrency_limit=2)
    app.launch(server_name=host, server_port=port, show_error=True, auth=auth,
               allowed_paths=[str(library.summaries_folder.resolve())],
               css_paths=[STATIC / "app.css"],
               head=f"<script>{(STATIC / 'app.js').read_text()}</script>",
               footer_links=["api"])
