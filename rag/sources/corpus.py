"""Read article files of every supported format into ``Article`` objects.

Nothing here knows about indexes. Whole-file problems raise ``UnreadableInput`` with a one-line
reason; a bad record inside a JSON Lines file becomes a ``Failure`` while its neighbours load.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rag.core.errors import UnreadableInput
from rag.core.types import Article, Failure

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".json", ".jsonl")

# Labels of the trailing metadata block of press-release style text articles.
_TRAILER_FIELDS = {
    "article title": "title",
    "title": "title",
    "doi": "doi",
    "keywords": "keywords",
    "article references": "references",
    "subject of research": "subject",
    "image credits": "image_credits",
    "author": "authors",
    "authors": "authors",
    "date": "date",
    "published": "date",
    "source": "url",
    "url": "url",
}
# Every pattern below runs on text anyone may have written, in the server's one interpreter:
# each is linear in its input (no two adjacent parts that can match the same characters;
# values are stripped in Python), so no line makes it backtrack for seconds.
_TRAILER_LINE = re.compile(r"[ \t]*([A-Za-z][A-Za-z ]{0,40}):(.*)")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^#{1,3}[ \t](.*)$", re.MULTILINE)
_YEAR_IN_PARENS = re.compile(r"\((\d{4})\)")
_ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?")
MAX_ID_CHARS = 100
ARTICLE_ID = re.compile(rf"[A-Za-z0-9_-][A-Za-z0-9._-]{{0,{MAX_ID_CHARS - 1}}}")
"""The one rule for article ids. Ids name files (summaries, downloads) and appear in links,
and they come from files anyone may have written (front matter, JSON), so only these
characters, no leading dot (no '.', '..' or hidden files), and a bounded length."""
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Parsed:
    """What one input file yielded."""

    articles: list[Article] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    replaced_ids: list[tuple[str, str]] = field(default_factory=list)
    """(id the file gave, safe id used instead) for ids that broke ``ARTICLE_ID``."""


def discover(paths: list[Path],
             within: list[Path] | None = None) -> tuple[list[Path], list[Failure]]:
    """Expand folders into the article files below them (hidden files and READMEs skipped).

    Symlinked folders are not followed, so a link loop cannot hang ingest; each is reported
    so the user knows it was skipped. A named file of an unsupported type is reported;
    unsupported files met inside folders are passed over. With ``within`` (a web visitor's
    request), a file that resolves outside those folders, through a symlink for instance,
    is reported and not read.
    """
    files: list[Path] = []
    failures: list[Failure] = []
    for path in paths:
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for link in [d for d in dirs if Path(root, d).is_symlink()]:
                    failures.append(Failure(str(Path(root, link)), "symlinked folder not "
                                            "followed (it may loop); ingest its target path"))
                    dirs.remove(link)
                for name in sorted(names):
                    candidate = Path(root, name)
                    if _is_article_file(candidate):
                        files.append(candidate)
        elif path.is_file():
            if path.suffix.lower() in SUFFIXES:
                files.append(path)
            else:
                failures.append(
                    Failure(str(path), f"unsupported file type '{path.suffix or path.name}'; "
                            f"supported: {', '.join(SUFFIXES)}")
                )
        else:
            failures.append(Failure(str(path), "no such file or folder"))
    if within is not None:
        outside = {f for f in files if not is_within(f, within)}  # resolves each file once
        failures += [Failure(str(f), OUTSIDE_LIBRARY) for f in files if f in outside]
        files = [f for f in files if f not in outside]
    return files, failures


OUTSIDE_LIBRARY = "not inside the library folders this server allows"
UPLOADS = "uploads"
"""The folder in the index where web visitors' uploads are stored."""
UPLOAD_PREFIX = "upload-"
"""The id space of uploaded articles (a visitor may remove only these)."""


def is_within(path: Path, roots: list[Path]) -> bool:
    """Whether ``path``, with every symlink and '..' resolved, lies inside one of ``roots``."""
    real = path.resolve()
    return any(real.is_relative_to(root.resolve()) for root in roots)


def _is_article_file(path: Path) -> bool:
    return (
        path.suffix.lower() in SUFFIXES
        and not path.name.startswith(".")
        and path.stem.upper() != "README"
    )


def read_file(path: Path, max_bytes: int) -> Parsed:
    """Read one file into articles; raises ``UnreadableInput`` when nothing can be used."""
    data = _read_bytes(path, max_bytes)
    suffix = path.suffix.lower()
    source = str(path.resolve())
    if suffix in (".json", ".jsonl"):
        parsed = _read_json(path, decode_text(data), source)
    else:
        kind = {".html": "html", ".htm": "html", ".pdf": "pdf", ".md": "markdown",
                ".markdown": "markdown"}.get(suffix, "text")
        article = read_document(data, kind, path)
        article.source = source
        parsed = Parsed([article])
    return _checked(parsed)


def read_document(data: bytes, kind: str, path: Path) -> Article:
    """One article from the bytes of a ``kind`` document (html, pdf, markdown, text);
    ``path`` names it (its stem is the default id and title)."""
    if kind == "html":
        return _read_html(path, data)
    if kind == "pdf":
        return _read_pdf(path, data)
    if kind == "markdown":
        return _read_markdown(path, decode_text(data))
    return _read_plain_text(path, decode_text(data))


def _checked(parsed: Parsed) -> Parsed:
    """Every article has text and a safe id (replacements recorded)."""
    for article in parsed.articles:
        if not article.text.strip():
            raise UnreadableInput("no article text found")
        given, article.id = article.id, safe_article_id(article.id)
        if article.id != given:
            parsed.replaced_ids.append((given, article.id))
    return parsed


def safe_article_id(candidate: str) -> str:
    """``candidate`` if it follows ``ARTICLE_ID``; else an id derived from it (unsafe runs
    replaced by '-', leading dots and dashes dropped, cut to length), or a hash of it when
    nothing usable is left."""
    if ARTICLE_ID.fullmatch(candidate):
        return candidate
    derived = _ID_UNSAFE.sub("-", candidate).lstrip(".-")[:MAX_ID_CHARS].rstrip(".-")
    if derived and ARTICLE_ID.fullmatch(derived):
        return derived
    return "id-" + hashlib.sha256(candidate.encode()).hexdigest()[:16]


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size == 0:
            raise UnreadableInput("empty file")
        if size > max_bytes:
            raise UnreadableInput(
                f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit "
                "(raise RAG_MAX_FILE_MB to ingest it)"
            )
        return path.read_bytes()
    except OSError as err:
        raise UnreadableInput(f"cannot read file: {err.strerror or err}") from None


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes) -> str:
    """Decode UTF-8 (or UTF-16/32 announced by a byte-order mark); refuse to guess otherwise.

    Guessing a legacy encoding silently corrupts names and symbols, which would then be quoted
    in citations; a clear refusal lets the user re-save the file.
    """
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if encoding is None:
        if b"\x00" in data[:8192]:
            raise UnreadableInput("binary content (NUL bytes), not a text file")
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        raise UnreadableInput(
            f"not valid {encoding.upper()} text (byte 0x{data[err.start]:02x} at offset "
            f"{err.start}); re-save the file as UTF-8"
        ) from None
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.05 * min(len(text), 8192):
        raise UnreadableInput("binary content (control characters), not a text file")
    return normalize(text)


def normalize(text: str) -> str:
    """One newline convention and no trailing blanks, so offsets are stable across platforms."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _read_plain_text(path: Path, text: str) -> Article:
    body, meta = split_trailer(text)
    article = Article(id=path.stem, text=body)
    _apply_metadata(article, meta)
    if not article.title:
        article.title = _title_from_text(body) or path.stem
    return article


def split_trailer(text: str) -> tuple[str, dict[str, str]]:
    """Split the trailing ``Label: value`` lines of a press-release article from its body."""
    lines = text.split("\n")
    meta: dict[str, str] = {}
    cut = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        if not lines[i].strip():
            continue
        match = _TRAILER_LINE.fullmatch(lines[i])
        key = _TRAILER_FIELDS.get(match.group(1).strip().lower()) if match else None
        value = match.group(2).strip() if match else ""
        if key is None or not value:
            break
        meta.setdefault(key, value)
        cut = i
    if cut == 0:  # nothing but metadata lines: treat the file as body text
        return text, {}
    return "\n".join(lines[:cut]).rstrip(), meta


def _apply_metadata(article: Article, meta: dict[str, Any]) -> None:
    """Fill article fields from loosely typed metadata (front matter, trailers, JSON)."""
    for key, value in meta.items():
        if value is None or value == "":
            continue
        if key == "id":
            article.id = str(value)
        elif key == "date":
            _apply_date(article, str(value).strip())
        elif key in ("title", "doi", "url"):
            setattr(article, key, str(value).strip().rstrip(".") if key == "title" else str(value))
        elif key in ("authors", "author"):
            article.authors = _as_list(value, sep=";" if ";" in str(value) else ",")
        elif key in ("keywords", "tags"):
            article.keywords = [k.rstrip(".") for k in _as_list(value, sep=",")]
        elif key == "source":
            article.url = article.url or str(value)
        elif key != "text":
            article.extra[key] = value if isinstance(value, str) else json.dumps(value)
    if not article.date and "references" in article.extra:
        year = _YEAR_IN_PARENS.search(article.extra["references"])
        article.date = year.group(1) if year else ""


def _apply_date(article: Article, value: str) -> None:
    """Keep ISO-like dates (YYYY, YYYY-MM, YYYY-MM-DD...), which sort and filter correctly;
    anything else ("None", "last spring") is kept as text, not used as a date."""
    match = _ISO_DATE.match(value)
    if match:
        article.date = match.group(0)
    else:
        article.extra["date_text"] = value


def _as_list(value: Any, sep: str) -> list[str]:
    items = value if isinstance(value, list) else str(value).split(sep)
    return [str(item).strip() for item in items if str(item).strip()]


def _title_from_text(body: str) -> str:
    first = body.split("\n", 1)[0].strip()
    return first if 0 < len(first) <= 150 and not first.endswith(".") else ""


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML's safe loader without aliases. An alias (``*name``) repeats a node by reference, so
    a few hundred bytes of nested aliases expand into gigabytes once the values are stored;
    an article's front matter has no use for them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.YAMLError(f"aliases (*{event.anchor}) are not allowed; write the "
                                 "value out in full")
        return super().compose_node(parent, index)


def _read_markdown(path: Path, text: str) -> Article:
    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.load(match.group(1) or "", Loader=_FrontMatterLoader) or {}
        except yaml.YAMLError as err:
            problem = str(err).splitlines()[0]
            raise UnreadableInput(f"malformed YAML front matter: {problem}") from None
        if not isinstance(loaded, dict):
            raise UnreadableInput("malformed YAML front matter: expected 'key: value' lines")
        meta = loaded
        text = text[match.end():].strip()
    article = Article(id=path.stem, text=text)
    _apply_metadata(article, meta)
    if not article.title:
        article.title = _first_heading(text) or path.stem
    return article


def _first_heading(text: str) -> str:
    """The text of the first level 1–3 Markdown heading with any ("# Title #" → "Title")."""
    for match in _HEADING.finditer(text):
        title = match.group(1).strip().rstrip("#").strip()
        if title:
            return title
    return ""


def _read_html(path: Path, data: bytes) -> Article:
    import trafilatura  # heavy import, only when HTML is met

    try:
        doc = trafilatura.bare_extraction(
            data, with_metadata=True, include_comments=False, include_tables=False
        )
    except Exception as err:  # lxml and trafilatura raise many kinds on broken pages
        raise UnreadableInput(f"malformed HTML: {type(err).__name__}: {err}") from None
    text = normalize(getattr(doc, "text", None) or "") if doc is not None else ""
    if not text:
        raise UnreadableInput("no article text found in the HTML page")
    article = Article(id=path.stem, text=text)
    _apply_metadata(
        article,
        {
            "title": doc.title,
            "authors": doc.author,
            "date": doc.date,
            "url": doc.url,
            "keywords": doc.tags,
        },
    )
    article.title = article.title or path.stem
    return article


def _read_pdf(path: Path, data: bytes) -> Article:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadableInput("encrypted PDF; save an unencrypted copy to ingest it")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except UnreadableInput:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as err:
        raise UnreadableInput(f"malformed PDF: {type(err).__name__}: {err}") from None
    text = normalize("\n\n".join(p.strip() for p in pages if p.strip()))
    if not text:
        raise UnreadableInput("PDF has no extractable text (a scanned image?)")
    article = Article(id=path.stem, text=text)
    _apply_metadata(article, {"title": info.get("/Title"), "authors": info.get("/Author")})
    article.title = article.title or _title_from_text(text) or path.stem
    return article


def _read_json(path: Path, text: str, source: str) -> Parsed:
    """``.json`` holds one article object or a list; ``.jsonl`` one object a line."""
    if path.suffix.lower() == ".jsonl":
        records = list(_json_lines(text))
    else:
        try:
            loaded = json.loads(text)
        except ValueError as err:  # also a number of over 4,300 digits
            raise UnreadableInput(f"malformed JSON: {err}") from None
        many = isinstance(loaded, list)
        items = loaded if many else [loaded]
        records = [(i + 1 if many else 0, item) for i, item in enumerate(items)]
    parsed = Parsed()
    for number, record in records:
        where = f"{path}:{number}" if number else str(path)
        try:
            article = _article_from_record(record, default_id=path.stem if not number else None)
        except UnreadableInput as err:
            parsed.failures.append(Failure(where, str(err)))
            continue
        article.source = source
        parsed.articles.append(article)
    if not parsed.articles and parsed.failures and len(records) == 1:
        raise UnreadableInput(parsed.failures[0].reason)
    return parsed


def _json_lines(text: str) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as err:
            yield number, UnreadableInput(f"malformed JSON line: {err.msg}")
        except ValueError as err:  # a number of over 4,300 digits
            yield number, UnreadableInput(f"malformed JSON line: {err}")


def _article_from_record(record: Any, default_id: str | None) -> Article:
    if isinstance(record, UnreadableInput):
        raise record
    if not isinstance(record, dict):
        raise UnreadableInput("expected a JSON object with a 'text' field")
    body = record.get("text")
    if not isinstance(body, str) or not body.strip():
        raise UnreadableInput("missing or empty 'text' field")
    body = normalize(body)
    article = Article(id=default_id or "", text=body)
    _apply_metadata(article, record)
    if not article.id:
        article.id = "sha-" + hashlib.sha256(body.encode()).hexdigest()[:16]
    article.title = article.title or _title_from_text(body) or article.id
    return article
