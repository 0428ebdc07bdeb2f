"""Articles from the web: one bounded page fetch, and RSS/Atom feeds whose new entries are
fetched. Each page becomes an article file (JSON, extracted text and metadata) in the index's
``web`` folder, then goes through the ordinary ingest, so re-ingest, removal and checkpoints
work as for any file. Only the operator's CLI calls this: the web app never fetches a URL.

A feed remembers the entries it has taken (``INDEX/feeds/<key>.json``); an entry whose page
fails is reported and not remembered, so the next run tries it again.

Who chooses an address decides what may be fetched. A URL the operator types is fetched as
given. A link a feed supplies, and every redirect of any fetch, must lead to a public address
or to the origin the operator named (the feed's own scheme, host and port): a feed author
cannot make the server read its loopback, private network or cloud metadata service and
publish the answer to every visitor. The address is checked where the connection is made, on
the address actually connected to. The trusted origin is pinned to the address its first
connection reached (``TrustedOrigin``): a feed host that answers a public address first and
a private one next (DNS rebinding) still gets every later request at the first address.
``--allow-private-links`` (RAG_ALLOW_PRIVATE_LINKS) lifts the rule.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from rag.core.errors import RagError, UnreadableInput
from rag.core.files import atomic_write, inside
from rag.core.settings import Settings
from rag.core.types import Article, Failure, IngestReport
from rag.sources.corpus import is_within, read_document, safe_article_id

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
    allow_private: bool = False
    """Let feed links and redirects reach loopback and private addresses too."""

    @classmethod
    def of(cls, settings: Settings) -> FetchLimits:
        return cls(settings.fetch_timeout_s, int(settings.max_file_mb * 1_000_000),
                   settings.fetch_max_redirects, settings.allow_private_links)


def origin(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL: what a connection is made to."""
    parts = urlsplit(url)
    default = 443 if parts.scheme.lower() == "https" else 80
    return (parts.hostname or "").lower(), parts.port or default


@dataclass
class TrustedOrigin:
    """The origin the operator named (host, port), and the address its first connection
    reached: every later connection to it, within one page's redirects or one feed's
    entries, goes to that address without resolving the name again."""

    host: str
    port: int
    address: str | None = None

    @classmethod
    def of(cls, url: str) -> TrustedOrigin:
        return cls(*origin(url))

    def is_for(self, host: str, port: int) -> bool:
        return (host.lower().strip("[]"), port) == (self.host, self.port)


class PrivateAddress(UnreadableInput):
    """A link or redirect leads to an address that is not public."""


class _Guard:
    """The network backend of every fetch: resolves the host, refuses addresses that are not
    public unless the connection goes to the ``trusted`` origin (the operator's URL), and
    connects to the very address it checked."""

    def __init__(self, trusted: TrustedOrigin | None, allow_private: bool) -> None:
        import httpcore

        self._trusted = trusted
        self._allow_private = allow_private
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Any = None) -> Any:
        import httpcore

        pinned = self._trusted if self._trusted and self._trusted.is_for(host, port) else None
        if pinned is not None and pinned.address is not None:
            return self._backend.connect_tcp(pinned.address, port, timeout, local_address,
                                             socket_options)
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as err:
            raise httpcore.ConnectError(f"cannot resolve {host}: {err}") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
        private = [a for a in addresses if not a.is_global or a.is_multicast]
        if private and not (self._allow_private or pinned):
            raise PrivateAddress(f"{host} is a private address ({private[0]}); only public "
                                 "addresses are fetched for a feed's links and redirects "
                                 "(rag ingest --allow-private-links lifts this)")
        if pinned is not None:
            pinned.address = str(addresses[0])
        return self._backend.connect_tcp(str(addresses[0]), port, timeout, local_address,
                                         socket_options)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _client(limits: FetchLimits, trusted: TrustedOrigin | None) -> Any:
    """An httpx client whose every connection, redirects included, goes through ``_Guard``."""
    import httpcore
    import httpx

    transport = httpx.HTTPTransport(trust_env=False)
    # httpx builds its pool without a way to pass a network backend; this is the same pool
    # with ours (httpx 0.28-0.29, pinned in pyproject.toml). Where a release keeps its pool
    # elsewhere, setting ours would leave fetches unguarded: refuse to fetch instead.
    if not isinstance(getattr(transport, "_pool", None), httpcore.ConnectionPool):
        raise RagError(f"httpx {httpx.__version__} keeps its connections where the fetch "
                       "guard cannot reach them; install the httpx version pyproject.toml names")
    transport._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(),
                                              network_backend=_Guard(trusted,
                                                                     limits.allow_private))
    return httpx.Client(transport=transport, follow_redirects=True,
                        max_redirects=limits.max_redirects, timeout=limits.timeout_s,
                        headers={"User-Agent": USER_AGENT}, trust_env=False)


@dataclass
class Fetched:
    url: str
    """Where the bytes came from, after redirects."""
    kind: str
    data: bytes
    validators: dict[str, str] = field(default_factory=dict)
    """What the server said identifies this version (``etag``, ``last_modified``): sent back
    by ``fetch_if_changed`` so an unchanged page costs one empty 304 answer."""


@dataclass
class FeedReport:
    """What one ``--feed`` run did; its JSON form is part of the CLI contract."""

    feed: str
    entries: int = 0
    new: int = 0
    changed: int = 0
    """Entries taken before whose feed says they were updated since: taken again (the
    article keeps its earlier text as a version)."""
    taken: list[str] = field(default_factory=list)
    """Article ids ingested from new and changed entries."""
    failed: list[Failure] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_url(text: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text))


def is_web_url(text: str) -> bool:
    """An http(s) URL: the only kind fetched, or linked from what the tool renders (an
    article's URL comes from its file, so never a javascript: or file: link)."""
    return urlsplit(text).scheme.lower() in ("http", "https")


def fetch(url: str, limits: FetchLimits, types: dict[str, str] = PAGE_TYPES,
          trusted: TrustedOrigin | None = None) -> Fetched:
    """GET ``url`` within ``limits``; only http(s) and the content ``types`` given. Every
    connection, redirects included, must reach a public address or the ``trusted`` origin
    at its pinned address (the URL the operator typed: ``url`` itself for a page, the feed
    for its links). Raises ``UnreadableInput`` with a one-line reason."""
    fetched = _get(url, limits, types, trusted, {})
    assert fetched is not None  # only a conditional request is answered "not modified"
    return fetched


def fetch_if_changed(url: str, limits: FetchLimits, known: dict[str, str],
                     trusted: TrustedOrigin | None = None) -> Fetched | None:
    """Like ``fetch``, sending back the ``known`` validators of the version already held:
    None when the server says it has not changed (HTTP 304)."""
    headers = {name: known[key] for key, name in _VALIDATORS.items() if known.get(key)}
    return _get(url, limits, PAGE_TYPES, trusted, headers)


_VALIDATORS = {"etag": "If-None-Match", "last_modified": "If-Modified-Since"}


def _get(url: str, limits: FetchLimits, types: dict[str, str], trusted: TrustedOrigin | None,
         headers: dict[str, str]) -> Fetched | None:
    import httpx

    if not is_web_url(url):
        raise UnreadableInput("only http:// and https:// URLs are fetched")
    deadline = time.monotonic() + limits.timeout_s
    try:
        with _client(limits, trusted) as client:
            with client.stream("GET", url, headers=headers) as reply:
                if reply.status_code == 304 and headers:
                    return None
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
                validators = {"etag": reply.headers.get("etag", ""),
                              "last_modified": reply.headers.get("last-modified", "")}
                return Fetched(str(reply.url), types[ctype], bytes(data),
                               {k: v for k, v in validators.items() if v})
    except PrivateAddress:
        raise
    except httpx.TimeoutException:
        raise UnreadableInput(f"timed out after {limits.timeout_s:g} s") from None
    except httpx.TooManyRedirects:
        raise UnreadableInput(f"more than {limits.max_redirects} redirects") from None
    except httpx.HTTPError as err:
        raise UnreadableInput(f"cannot fetch: {type(err).__name__}: {err}") from None


def _too_large(limits: FetchLimits) -> str:
    return f"larger than {limits.max_bytes / 1e6:g} MB"


def page_article(fetched: Fetched, title: str = "", date: str = "") -> Article:
    """The article of a fetched page: its main text and metadata (trafilatura for HTML)
    under the URL fetched, with the canonical URL the page names beside it when it differs
    (a page does not choose the link it is shown under); ``title``/``date`` (from a feed
    entry) win over what the page says."""
    article = read_document(fetched.data, fetched.kind, Path(url_id(fetched.url)))
    article.id = url_id(fetched.url)
    if is_web_url(article.url) and article.url != fetched.url:
        article.extra["canonical"] = article.url
    article.url = fetched.url
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
    updated: str = ""
    """When the feed says the entry last changed, as it writes it ("" if it does not)."""


def feed_entries(source: str, limits: FetchLimits,
                 trusted: TrustedOrigin | None = None) -> list[Entry]:
    """The entries of an RSS/Atom feed at a URL (``trusted``: its origin, pinned for its
    entries' fetches) or in a saved file (links relative to the feed resolved against it).
    The bytes are fetched here, bounded, never by feedparser."""
    import feedparser

    if is_url(source):
        data = fetch(source, limits, FEED_TYPES, trusted or TrustedOrigin.of(source)).data
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
                             date=time.strftime("%Y-%m-%d", stamp) if stamp else "",
                             updated=str(item.get("updated") or "")))
    return [e for e in entries if e.key]


def fetch_entry(entry: Entry, limits: FetchLimits, saved_in: Path | None,
                trusted: TrustedOrigin | None = None) -> Fetched:
    """The page of a feed entry: fetched, or, for a feed saved in the folder ``saved_in``,
    read from a file inside that folder. A feed's author chooses its links: a feed from
    the web (``saved_in`` None) or a link out of the folder never reads a local file, and a
    link reaches only public addresses or the ``trusted`` origin (the feed's, pinned)."""
    if entry.link.startswith("file://") and saved_in is not None:
        path = Path(urlsplit(entry.link).path)
        if not is_within(path, [saved_in]):
            raise UnreadableInput("a saved feed may only link files in its own folder")
        kind = {".pdf": "pdf", ".txt": "text"}.get(path.suffix.lower(), "html")
        try:
            return Fetched(entry.link, kind, path.read_bytes()[: limits.max_bytes])
        except OSError as err:
            raise UnreadableInput(f"cannot read {path}: {err.strerror or err}") from None
    return fetch(entry.link, limits, trusted=trusted)


class FeedState:
    """The entry keys a feed has already given, and when the feed said each last changed,
    kept beside the index."""

    def __init__(self, folder: Path, source: str) -> None:
        key = hashlib.sha256(source.encode()).hexdigest()[:16]
        self.path = folder / f"{key}.json"
        self.source = source
        try:
            data = json.loads(self.path.read_text())
            self.seen = set(data["seen"])
            self.updated: dict[str, str] = dict(data.get("updated", {}))
        except FileNotFoundError:
            self.seen, self.updated = set(), {}
        except (OSError, ValueError, KeyError, TypeError):
            # a silent reset would take every entry again
            raise RagError(f"feed state {self.path} is damaged; delete it to take every entry "
                           "of this feed again") from None

    def changed(self, entry: Entry) -> bool:
        """A taken entry the feed now says was updated since (a state written before
        updates were kept has no stamp to compare: its entries count as unchanged)."""
        return entry.key in self.updated and entry.updated != self.updated[entry.key]

    def take(self, taken: list[Entry], listed: list[Entry]) -> None:
        """Remember the ``taken`` entries as they are now, and the stamps of ``listed``
        entries taken before any stamp was kept."""
        self.seen |= {e.key for e in taken}
        self.updated.update({e.key: e.updated for e in taken})
        for entry in listed:
            if entry.key in self.seen:
                self.updated.setdefault(entry.key, entry.updated)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, json.dumps({"feed": self.source, "seen": sorted(self.seen),
                                            "updated": self.updated}))


class IngestsFiles(Protocol):
    """What fetching pages needs of the library (``rag.library.Library``): the index folder
    its pages are saved under, and the ingest of the saved files."""

    settings: Settings

    def ingest(self, paths: list[Path], progress: bool = False) -> IngestReport: ...


def ingest_pages(library: IngestsFiles, urls: list[str], limits: FetchLimits,
                 progress: bool = False) -> IngestReport:
    """Fetch each page, save it as an article file, ingest the files; a page that cannot be
    fetched or read is a failure with its reason, the rest land."""
    saved, failed = _save_pages(library, [Entry(url, url, "", "") for url in urls], limits,
                                None, lambda entry: TrustedOrigin.of(entry.link))
    return _ingest_saved(library, saved, failed, progress)


FEED_BATCH = 25
"""Entries fetched and ingested between two saves of a feed's state: an interrupted run of a
long feed loses at most this many entries' work."""


def ingest_feed(library: IngestsFiles, source: str, limits: FetchLimits,
                progress: bool = False, entries: list[Entry] | None = None,
                trusted: TrustedOrigin | None = None) -> tuple[FeedReport, IngestReport]:
    """Take the feed's entries not taken before, and those it says were updated since they
    were: fetch, save, ingest and remember, ``FEED_BATCH`` entries at a time. ``entries``
    (with the ``trusted`` origin they were read under): the feed as a caller already read
    it."""
    if entries is None:
        trusted = TrustedOrigin.of(source) if is_url(source) else None
        entries = feed_entries(source, limits, trusted)
    state = FeedState(library.settings.index / "feeds", source)
    new = [e for e in entries if e.key not in state.seen]
    changed = [e for e in entries if state.changed(e)]
    saved_in = None if is_url(source) else Path(source).expanduser().resolve().parent
    report, failed, taken = IngestReport(), [], []
    wanted = new + changed
    for first in range(0, len(wanted), FEED_BATCH):
        saved, missed = _save_pages(library, wanted[first:first + FEED_BATCH], limits,
                                    saved_in, lambda entry: trusted)
        part = _ingest_saved(library, saved, missed, progress)
        unread = {f.path for f in part.failed}
        kept = {key: path for key, path in saved.items() if str(path) not in unread}
        state.take([e for e in entries if e.key in kept], entries)
        state.save()
        report.merge(part)
        failed += missed
        taken += [p.stem for p in kept.values()]
    if not wanted:
        state.take([], entries)
        state.save()
    feed = FeedReport(source, len(entries), len(new), len(changed), sorted(set(taken)),
                      failed)
    return feed, report


def _ingest_saved(library: IngestsFiles, saved: dict[str, Path], failed: list[Failure],
                  progress: bool) -> IngestReport:
    """Ingest the saved article files; the pages that failed lead the report's failures."""
    # two entries may lead to one page (one file): ingest it once
    report = library.ingest(list(dict.fromkeys(saved.values())), progress=progress) if saved \
        else IngestReport()
    report.failed[:0] = failed
    return report


def _save_pages(library: IngestsFiles, wanted: list[Entry], limits: FetchLimits,
                saved_in: Path | None, trusted: Callable[[Entry], TrustedOrigin | None]
                ) -> tuple[dict[str, Path], list[Failure]]:
    """(key -> saved article file, failures) for the entries. ``trusted``: the origin an
    entry may reach beside public addresses: the feed's (None for a saved feed: no origin
    of its own), or for a page the operator named, its own."""
    folder = library.settings.index / "web"
    saved: dict[str, Path] = {}
    failed: list[Failure] = []
    for entry in wanted:
        try:
            fetched = fetch_entry(entry, limits, saved_in, trusted(entry))
            saved[entry.key] = save_article(page_article(fetched, entry.title, entry.date),
                                            folder)
        except UnreadableInput as err:
            failed.append(Failure(entry.link, str(err)))
    return saved, failed
