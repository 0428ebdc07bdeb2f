"""The Gradio app: a thin layer over ``rag.Library``; nothing of the pipeline lives here.

Article text and titles are untrusted input, so everything taken from an article is escaped
before it is rendered.
"""

from __future__ import annotations

import html

import gradio as gr

from rag import Hit, Library, RagError


def render_hits(hits: list[Hit]) -> str:
    """Passages as escaped HTML cards: title, article id, character span, score."""
    if not hits:
        return "<p>No matching passages.</p>"
    cards = []
    for rank, hit in enumerate(hits, start=1):
        cards.append(
            f"<div class='hit' data-article='{html.escape(hit.chunk.article_id, quote=True)}'>"
            f"<b>[{rank}] {html.escape(hit.title)}</b> "
            f"<small>{html.escape(hit.chunk.article_id)} · chars {hit.chunk.start}–"
            f"{hit.chunk.end} · score {hit.score:.4f}</small>"
            f"<p>{html.escape(hit.chunk.text)}</p></div>"
        )
    return "\n".join(cards)


def build_app(library: Library) -> gr.Blocks:
    def search(query: str) -> str:
        try:
            return render_hits(library.search(query))
        except RagError as err:
            return f"<p class='error'>{html.escape(str(err))}</p>"

    def summary() -> str:
        info = library.info()
        return (f"{info['articles']} articles · {info['chunks']} passages · "
                f"embedder {info['embedder']}")

    with gr.Blocks(title="Article Q&A") as app:
        gr.Markdown("# Article Q&A\nSearch your articles. Answers with citations come next.")
        status = gr.Markdown()
        query = gr.Textbox(label="Question or keywords", placeholder="Which angiopoietins…?")
        button = gr.Button("Search", variant="primary")
        results = gr.HTML()
        button.click(search, query, results, api_name="search")
        query.submit(search, query, results, api_name=False)
        app.load(summary, None, status, api_name=False)
    return app


def launch(library: Library, host: str = "127.0.0.1", port: int = 7860) -> None:
    app = build_app(library)
    app.queue(default_concurrency_limit=2)
    app.launch(server_name=host, server_port=port, show_error=True)
