"""Watching sources: feeds, pages and folders polled on a schedule, what is new or changed
taken into the index, and a digest written when a run found something.

The sources of an index are kept in ``INDEX/watch/sources.json``: where each is, how often to
look, when next, and what the last look found (one line). A feed's new entries, and those it
marks as updated, are taken as ``rag ingest --feed`` takes them; then each of its entries'
pages (and each watched page) is asked again with the validators the server gave last time
(ETag, Last-Modified), so a page that changed under an unchanged entry becomes a new version
of its article while an unchanged one costs a single empty 304 answer. A folder is ingested
again, which embeds only files whose content changed. After the sources' turns the digest of
what is new (``rag digest --new``) is written, which writes nothing when nothing is new.

A source that fails is retried later and later (its interval doubled per failure, at most a
day); one that works keeps its interval with a tenth of jitter, so many sources do not all
poll at once. The list is saved after each source's turn and every part of a turn (ingest,
feed state, digest) is itself atomic, so a killed watch loses at most the source it was on,
and the next run takes that one again.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from rag.core.errors import RagError, UnreadableInput
from rag.core.files import atomic_write
from rag.core.settings import Settings
from rag.core.types import Article, IngestReport
from rag.sources.web import (
    FetchLimits,
    TrustedOrigin,
    feed_entries,
    fetch_if_changed,
    ingest_feed,
    is_url,
    page_article,
    save_article,
    url_id,
)

KINDS = ("feed", "page", "files")
MAX_BACKOFF_S = 86_400.0
_EVERY = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_every(text: str) -> float:
    """Seconds of an interval written as ``90s``, ``15m``, ``2h`` or ``1d``."""
    found = _EVERY.match(text.strip().lower())
    if not found or float(found.group(1)) <= 0:
        raise RagError(f"interval {text!r} is not a number with s, m, h or d (e.g. 30m)")
    return float(found.group(1)) * _UNITS[found.group(2)]


@dataclass
class Source:
    """One watched place and its schedule."""

    location: str
    """A feed's or page's URL, a saved feed file, or a folder (absolute)."""
    kind: str
    every_s: float
    next_run: float = 0.0
    """When it is next due (seconds since the epoch); 0: at the next run."""
    failures: int = 0
    last_run: str = ""
    last_result: str = ""
    """What its last turn found, in one line."""
    title: str = ""
    folder: str = ""
    """The folder of a feed reader's subscription list it came from (OPML), kept for export."""

    def schedule(self, now: float, ok: bool, rng: random.Random) -> None:
        """Due again after its interval (with a tenth of jitter), or, after a failure, after
        twice the wait of the failure before (at most a day)."""
        if ok:
            self.failures = 0
            self.next_run = now + self.every_s * rng.uniform(0.9, 1.1)
        else:
            self.failures += 1
            self.next_run = now + min(self.every_s * 2 ** self.failures, MAX_BACKOFF_S)


class Watchlist:
    """The sources of an index folder, kept in ``INDEX/watch/sources.json`` (written
    atomically), and the validators of the pages it watches (``pages.json``)."""

    def __init__(self, index: Path) -> None:
        self.folder = Path(index) / "watch"
        self.path = self.folder / "sources.json"
        self.pages_path = self.folder / "pages.json"
        self._pages: dict[str, dict[str, str]] | None = None  # read once, kept by save_pages

    def sources(self) -> list[Source]:
        names = {f.name for f in fields(Source)}
        try:
            rows = json.loads(self.path.read_text())
            return [Source(**{k: v for k, v in row.items() if k in names}) for row in rows]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, TypeError, AttributeError):
            raise RagError(f"the watch list {self.path} is damaged; fix or delete it and add "
                           "the sources again") from None

    def save(self, sources: list[Source]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, json.dumps([asdict(s) for s in sources], indent=2))

    def add(self, *added: Source) -> None:
        """Watch these sources (one already watched takes the new kind, interval, title and
        folder, and is due at the next run)."""
        for source in added:
            if source.kind not in KINDS:
                raise RagError(f"a source is one of {', '.join(KINDS)}, not {source.kind!r}")
        locations = {source.location for source in added}
        self.save([s for s in self.sources() if s.location not in locations] + list(added))

    def record(self, turned: Source) -> None:
        """Save one source's schedule and last result into the list as it is on disk now:
        sources another process added or removed during a run stay added or removed, and an
        interval changed meanwhile is kept."""
        updated = []
        for source in self.sources():
            if source.location == turned.location:
                source.next_run, source.failures = turned.next_run, turned.failures
                source.last_run, source.last_result = turned.last_run, turned.last_result
            updated.append(source)
        self.save(updated)

    def remove(self, location: str) -> bool:
        sources = self.sources()
        kept = [s for s in sources if s.location != location]
        if len(kept) == len(sources):
            return False
        self.save(kept)
        return True

    def pages(self) -> dict[str, dict[str, str]]:
        """The watched pages' validators, read from disk once per list (a run asks it for
        every entry of every feed)."""
        if self._pages is None:
            try:
                found = json.loads(self.pages_path.read_text())
                self._pages = found if isinstance(found, dict) else {}
            except (OSError, ValueError):
                self._pages = {}  # lost validators cost one full fetch per page, nothing else
        return self._pages

    def save_pages(self, pages: dict[str, dict[str, str]]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.pages_path, json.dumps(pages, indent=2, sort_keys=True))
        self._pages = pages


class Watches(Protocol):
    """What watching needs of the library (``rag.library.Library``)."""

    settings: Settings

    def ingest(self, paths: list[Path], progress: bool = False) -> IngestReport: ...

    def article(self, article_id: str) -> Article | None: ...

    def digest(self, new: bool = True, since: str = "", out: Path | None = None,
               progress: bool = False) -> Any: ...


@dataclass
class Turn:
    """What one source's turn found."""

    location: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    not_modified: int = 0
    """Pages the server answered 304 for: the cheapest kind of unchanged."""
    failed: list[str] = field(default_factory=list)

    def line(self) -> str:
        said = (f"{self.new} new, {self.changed} changed, {self.unchanged} unchanged "
                f"({self.not_modified} not modified, HTTP 304)")
        if self.failed:
            said += f"; {len(self.failed)} failed: {self.failed[0]}"
        return said


@dataclass
class WatchRun:
    """One run over the due sources, and the digest it wrote (if anything was new)."""

    turns: list[Turn] = field(default_factory=list)
    digest: list[str] = field(default_factory=list)
    digest_message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_due(library: Watches, now: float | None = None, rng: random.Random | None = None,
            log: Callable[[str], None] = lambda line: None) -> WatchRun:
    """Take every due source's new and changed articles, then write the digest of what is
    new; sources not due are left alone."""
    watchlist = Watchlist(library.settings.index)
    sources = watchlist.sources()
    now = time.time() if now is None else now
    rng = rng or random.Random()
    limits = FetchLimits.of(library.settings)
    run = WatchRun()
    for source in [s for s in sources if s.next_run <= now]:
        turn = _turn(library, source, limits, watchlist)
        source.schedule(time.time(), ok=not (turn.failed and not turn.new + turn.changed +
                                             turn.unchanged), rng=rng)
        source.last_run = datetime.now(UTC).isoformat(timespec="seconds")
        source.last_result = turn.line()
        watchlist.record(source)
        run.turns.append(turn)
        log(f"{source.kind} {source.location}: {turn.line()}")
    if run.turns:
        report = library.digest(new=True)
        run.digest, run.digest_message = list(report.written), report.message
        log(f"digest: {report.message}" + (f" ({report.written[-1]})" if report.written
                                           else ""))
    return run


def read_opml(data: bytes, every_s: float) -> list[Source]:
    """The feeds of a feed reader's subscription list (OPML), with their titles and folders
    (listparser reads it). A list that is not whole, well-formed OPML is refused in one line:
    listparser takes what it can of a cut-off file, which would add part of it."""
    from xml.etree import ElementTree

    import listparser

    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as err:
        raise RagError(f"not an OPML subscription list ({err}); nothing was added") from None
    parsed = listparser.parse(data)
    if root.tag != "opml" or parsed.bozo or not parsed.feeds:
        reason = f"its root is <{root.tag}>" if root.tag != "opml" else \
            str(parsed.get("bozo_exception") or "it lists no feeds").splitlines()[0]
        raise RagError(f"not an OPML subscription list ({reason}); nothing was added")
    return [Source(feed.url, "feed", every_s, title=feed.get("title") or "",
                   folder="/".join(feed.categories[0]) if feed.get("categories") else "")
            for feed in parsed.feeds]


def opml_feeds(sources: list[Source]) -> list[Source]:
    """The sources an OPML list can hold: feeds on the web (not pages, files or saved
    feeds)."""
    return [s for s in sources if s.kind == "feed" and is_url(s.location)]


def write_opml(sources: list[Source]) -> bytes:
    """The watched feeds (``opml_feeds``) as an OPML subscription list, in their folders."""
    from xml.etree import ElementTree

    root = ElementTree.Element("opml", version="2.0")
    ElementTree.SubElement(ElementTree.SubElement(root, "head"), "title").text = \
        "rag watch list"
    body = ElementTree.SubElement(root, "body")
    folders: dict[str, ElementTree.Element] = {}
    for source in opml_feeds(sources):
        parent = body
        if source.folder:
            if source.folder not in folders:
                folders[source.folder] = ElementTree.SubElement(
                    body, "outline", text=source.folder, title=source.folder)
            parent = folders[source.folder]
        name = source.title or source.location
        ElementTree.SubElement(parent, "outline", type="rss", text=name, title=name,
                               xmlUrl=source.location)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def keep_watching(library: Watches, stop: threading.Event,
                  log: Callable[[str], None] = lambda line: None) -> None:
    """Run the due sources, then sleep until the next is due (waking at least once a minute,
    for sources added meanwhile), until ``stop`` is set: ``rag watch run`` and
    ``rag serve --watch``."""
    while not stop.is_set():
        run_due(library, log=log)
        wake = next_due(Path(library.settings.index))  # 0: a source added since, due now
        stop.wait(min(60.0, max(0.2, 60.0 if wake is None else wake - time.time())))


def next_due(index: Path) -> float | None:
    """When the earliest source is due (None: nothing is watched)."""
    sources = Watchlist(index).sources()
    return min((s.next_run for s in sources), default=None)


def _turn(library: Watches, source: Source, limits: FetchLimits, watchlist: Watchlist) -> Turn:
    turn = Turn(source.location)
    try:
        if source.kind == "files":
            report = library.ingest([Path(source.location)])
            turn.new, turn.changed, turn.unchanged = report.added, report.updated, \
                report.unchanged
            turn.failed = [f"{f.path}: {f.reason}" for f in report.failed]
        elif source.kind == "feed":
            _feed_turn(library, source.location, limits, watchlist, turn)
        else:
            _page_turn(library, source.location, "", "", limits, watchlist,
                       TrustedOrigin.of(source.location), turn)
    except Exception as err:  # noqa: BLE001 - a watch runs unattended: one source's failure,
        # whatever it is, is its one line, and the other sources still get their turn
        turn.failed.append(str(err).splitlines()[0] if str(err) else type(err).__name__)
    return turn


def _feed_turn(library: Watches, feed: str, limits: FetchLimits, watchlist: Watchlist,
               turn: Turn) -> None:
    """New and updated entries as ``rag ingest --feed`` takes them; then every other entry's
    page asked again, so a page changed under an unchanged entry is noticed."""
    trusted = TrustedOrigin.of(feed) if is_url(feed) else None
    entries = feed_entries(feed, limits, trusted)
    report, ingested = ingest_feed(library, feed, limits, entries=entries, trusted=trusted)
    turn.new, turn.changed = ingested.added, ingested.updated
    turn.failed = [f"{f.path}: {f.reason}" for f in report.failed]
    if trusted is None:
        return  # a saved feed's pages are files: re-read when the feed marks them updated
    taken_now = set(report.taken)
    for entry in entries:
        held = url_id(entry.link)
        if held not in taken_now and library.article(held) is not None:
            _page_turn(library, entry.link, entry.title, entry.date, limits, watchlist,
                       trusted, turn)


def _page_turn(library: Watches, url: str, title: str, date: str, limits: FetchLimits,
               watchlist: Watchlist, trusted: TrustedOrigin | None, turn: Turn) -> None:
    """Ask for the page again with what the server said of the version held: 304 costs
    nothing; a new text becomes the article's new version (its earlier one kept)."""
    pages = watchlist.pages()
    held = library.article(url_id(url))
    try:
        fetched = fetch_if_changed(url, limits, pages.get(url, {}) if held else {}, trusted)
    except UnreadableInput as err:
        turn.failed.append(f"{url}: {err}")
        return
    if fetched is None:
        turn.unchanged += 1
        turn.not_modified += 1
        return
    path = save_article(page_article(fetched, title, date),
                        Path(library.settings.index) / "web")
    report = library.ingest([path])
    if report.failed:
        turn.failed.append(f"{url}: {report.failed[0].reason}")
        return
    pages[url] = fetched.validators
    watchlist.save_pages(pages)
    turn.new += report.added
    turn.changed += report.updated
    turn.unchanged += report.unchanged
