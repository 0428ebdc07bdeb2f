"""Articles from the web: one bounded page fetch, and RSS/Atom feeds whose new entries are
fetched. Each page becomes an article file (JSON, extracted text and metadata) in the index's
``web`` folder, then goes through the ordinary ingest, so re-ingest, removal and checkpoints
work as for any file. Only the operator's CLI calls this: the web app never fetches a URL.

A feed remembers the entries it has taken (``INDEX/feeds/<key>.json``); an entry whose page
fails is reported and not remembered, so the next run tries it again.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from rag.corpus import is_within, read_document, safe_article_id
from rag.errors import RagError, UnreadableInput
from rag.files import atomic_write, inside
from rag.settings import Settings
from rag.types import Article, Failure, IngestReport

USER_AGENT = "rag-articles/0.1 (local article Q&A; fetches pages its operator asked for)"
PAGE_TYPES = {"text/html": "html", "application/xhtml+xml": "html", "application/pdf": "pdf",
              "text/plain": "text"}
FEED_TYPES = {t: "feed" for t in ("application/rss+xml", "application/atom+xml",
                                  "application/xml", "text/xml", "application/rdf+xml",
                                  "application/feed+json")}
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class FetchLimits:
    """How much one fetch may cost: whole-request deadline, bytes, redirects."""

    timeout_s: float = 15.0
    max_bytes: int = 20_000_000
    max_redirects: int = 5

    @classmethod
    def of(cls, settings: Settings) -> FetchLimits:
        return cls(settings.fetch_timeout_s, int(settings.max_file_mb * 1_000_000),
                   settings.fetch_max_redirects)


@dataclass
class Fetched:
    url: str
    """Where the bytes came from, after redirects."""
    kind: str
    data: bytes


@dataclass
class FeedReport:
    """What one ``--feed`` run did; its JSON form is part of the CLI contract."""

    feed: str
    entries: int = 0
    new: int = 0
    taken: list[str] = field(default_factory=list)
    """Article ids ingested from new entries."""
    failed: list[Failure] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_url(text: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text))


def is_web_url(text: str) -> bool:
    """An http(s) URL: the only kind fetched, or linked from what the tool renders (an
    article's URL comes from its file, so never a javascript: or file: link)."""
    return urlsplit(text).scheme.lower() in ("http", "https")


def fetch(url: str, limits: FetchLimits, types: dict[str, str] = PAGE_TYPES) -> Fetched:
    """GET ``url`` within ``limits``; only http(s) and the content ``types`` given. Raises
    ``UnreadableInput`` with a one-line reason."""
    import httpx

    if not is_web_url(url):
        raise UnreadableInput("only http:// and https:// URLs are fetched")
    deadline = time.monotonic() + limits.timeout_s
    try:
        with httpx.Client(follow_redirects=True, max_redirects=limits.max_redirects,
                          timeout=limits.timeout_s, headers={"User-Agent": USER_AGENT}) as client:
            with client.stream("GET", url) as reply:
                if reply.status_code >= 400:
                    raise UnreadableInput(f"the server answered HTTP {reply.status_code}")
                ctype = reply.headers.get("content-type", "").split(";")[0].strip().lower()
                if ctype not in types:
                    raise UnreadableInput(f"not an article ({ctype or 'no content type'}); "
                                          f"fetched are {', '.join(sorted(set(types)))}")
                if int(reply.headers.get("content-length") or 0) > limits.max_bytes:
                    raise UnreadableInput(_too_large(limits))
                data = bytearray()
                for part in reply.iter_bytes():
                    data += part
                    if len(data) > limits.max_bytes:
                        raise UnreadableInput(_too_large(limits))
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("deadline")
                return Fetched(str(reply.url), types[ctype], bytes(data))
    except httpx.TimeoutException:
        raise UnreadableInput(f"timed out after {limits.timeout_s:g} s") from None
    except httpx.TooManyRedirects:
        raise UnreadableInput(f"more than {limits.max_redirects} redirects") from None
    except httpx.HTTPError as err:
        raise UnreadableInput(f"cannot fetch: {type(err).__name__}: {err}") from None


def _too_large(limits: FetchLimits) -> str:
    return f"larger than {limits.max_bytes / 1e6:g} MB"


def page_article(fetched: Fetched, title: str = "", date: str = "") -> Article:
    """The article of a fetched page: its main text and metadata (trafilatura for HTML),
    its canonical URL where the page names one, else the URL fetched; ``title``/``date``
    (from a feed entry) win over what the page says."""
    article = read_document(fetched.data, fetched.kind, Path(url_id(fetched.url)))
    article.id = url_id(fetched.url)
    article.url = article.url if is_web_url(article.url) else fetched.url
    article.extra["site"] = urlsplit(article.url).hostname or ""
    article.title = title or article.title
    article.date = date or article.date
    return article


def url_id(url: str) -> str:
    """A readable, stable article id for a URL: host and path words, and a short hash."""
    parts = urlsplit(url)
    words = _SLUG.sub("-", f"{parts.hostname or ''} {parts.path}".lower()).strip("-")[:60]
    return safe_article_id(f"web-{words}-{hashlib.sha256(url.encode()).hexdigest()[:8]}")


def save_article(article: Article, folder: Path) -> Path:
    """The article as a JSON article file in ``folder`` (named by its id)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = inside(folder, f"{article.id}.json")
    record = {"id": article.id, "title": article.title, "text": article.text,
              "date": article.date, "authors": "; ".join(article.authors), "url": article.url,
              "keywords": ", ".join(article.keywords), **article.extra}
    atomic_write(path, json.dumps(record, ensure_ascii=False))
    return path


@dataclass
class Entry:
    key: str
    link: str
    title: str
    date: str


def feed_entries(source: str, limits: FetchLimits) -> list[Entry]:
    """The entries of an RSS/Atom feed at a URL or in a saved file (links relative to the
    feed resolved against it). The bytes are fetched here, bounded, never by feedparser."""
    import feedparser

    if is_url(source):
        data = fetch(source, limits, FEED_TYPES).data
        base = source
    else:
        path = Path(source).expanduser()
        try:
            data = path.read_bytes()[: limits.max_bytes + 1]
        except OSError as err:
            raise RagError(f"cannot read feed {source}: {err.strerror or err}") from None
        base = path.resolve().as_uri()
    parsed = feedparser.parse(data)
    if not parsed.entries and parsed.get("bozo"):
        raise RagError(f"{source} is not an RSS or Atom feed: {parsed.get('bozo_exception')}")
    entries = []
    for item in parsed.entries:
        link = urljoin(base, item.get("link") or "")
        stamp = item.get("published_parsed") or item.get("updated_parsed")
        entries.append(Entry(key=item.get("id") or link, link=link,
                             title=" ".join((item.get("title") or "").split()),
                             date=time.strftime("%Y-%m-%d", stamp) if stamp else ""))
    return [e for e in entries if e.key]


def fetch_entry(entry: Entry, limits: FetchLimits, saved_in: Path | None) -> Fetched:
    """The page of a feed entry: fetched, or, for a feed saved in the folder ``saved_in``,
    read from a file inside that folder. A feed's author chooses its links: a feed from
    the web (``saved_in`` None) or a link out of the folder never reads a local file."""
    if entry.link.startswith("file://") and saved_in is not None:
        path = Path(urlsplit(entry.link).path)
        if not is_within(path, [saved_in]):
            raise UnreadableInput("a saved feed may only link files in its own folder")
        kind = {".pdf": "pdf", ".txt": "text"}.get(path.suffix.lower(), "html")
        try:
            return Fetched(entry.link, kind, path.read_bytes()[: limits.max_bytes])
        except OSError as err:
            raise UnreadableInput(f"cannot read {path}: {err.strerror or err}") from None
    return fetch(entry.link, limits)


class FeedState:
    """The entry keys a feed has already given, kept beside the index."""

    def __init__(self, folder: Path, source: str) -> None:
        key = hashlib.sha256(source.encode()).hexdigest()[:16]
        self.path = folder / f"{key}.json"
        self.source = source
        try:
            self.seen = set(json.loads(self.path.read_text()).get("seen", []))
        except (OSError, ValueError):
            self.seen = set()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, json.dumps({"feed": self.source, "seen": sorted(self.seen)}))


def ingest_pages(library: Any, urls: list[str], limits: FetchLimits,
                 progress: bool = False) -> IngestReport:
    """Fetch each page, save it as an article file, ingest the files; a page that cannot be
    fetched or read is a failure with its reason, the rest land."""
    saved, failed = _save_pages(library, [(url, url, "", "") for url in urls], limits, None)
    return _ingest_saved(library, saved, failed, progress)


def ingest_feed(library: Any, source: str, limits: FetchLimits,
                progress: bool = False) -> tuple[FeedReport, IngestReport]:
    """Take the feed's entries not taken before: fetch, save, ingest, remember."""
    entries = feed_entries(source, limits)
    state = FeedState(library.settings.index / "feeds", source)
    new = [e for e in entries if e.key not in state.seen]
    saved_in = None if is_url(source) else Path(source).expanduser().resolve().parent
    saved, failed = _save_pages(library, [(e.key, e.link, e.title, e.date) for e in new],
                                limits, saved_in)
    report = _ingest_saved(library, saved, failed, progress)
    unread = {f.path for f in report.failed}
    taken = {key: path for key, path in saved.items() if str(path) not in unread}
    state.seen |= set(taken)
    state.save()
    feed = FeedReport(source, len(entries), len(new), sorted(p.stem for p in taken.values()),
                      failed)
    return feed, report


def _ingest_saved(library: Any, saved: dict[str, Path], failed: list[Failure],
                  progress: bool) -> IngestReport:
    """Ingest the saved article files; the pages that failed lead the report's failures."""
    report = library.ingest(list(saved.values()), progress=progress) if saved \
        else IngestReport()
    report.failed[:0] = failed
    return report


def _save_pages(library: Any, wanted: list[tuple[str, str, str, str]], limits: FetchLimits,
                saved_in: Path | None) -> tuple[dict[str, Path], list[Failure]]:
    """(key -> saved article file, failures) for (key, link, title, date) tuples."""
    folder = library.settings.index / "web"
    saved: dict[str, Path] = {}
    failed: list[Failure] = []
    for key, link, title, date in wanted:
        try:
            fetched = fetch_entry(Entry(key, link, title, date), limits, saved_in)
            saved[key] = save_article(page_article(fetched, title, date), folder)
        except UnreadableInput as err:
            failed.append(Failure(link, str(err)))
    return saved, failed
