"""What a web visitor may make the server do. The operator who starts ``rag serve`` is trusted;
visitors, API clients and the authors of uploaded articles are not.

Every request a visitor's input turns into a file path, a generator URL, a question or a
passage count passes through ``VisitorPolicy`` first, so the checks live in one place to
review. The CLI, run by the operator, does not use it: the operator may ingest any path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rag.core.errors import RagError
from rag.core.files import atomic_write
from rag.core.settings import Settings
from rag.sources.corpus import OUTSIDE_LIBRARY, UPLOAD_PREFIX, UPLOADS, is_within
from rag.sources.web import is_url

BUNDLED_CORPUS = Path("corpus")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
MB = 1_000_000


@dataclass(frozen=True)
class VisitorPolicy:
    roots: tuple[Path, ...]
    uploads: Path
    llm_urls: tuple[str, ...]
    max_upload_bytes: int
    max_upload_files: int
    max_upload_total_bytes: int
    max_question_chars: int
    max_k: int

    @classmethod
    def from_settings(cls, settings: Settings) -> VisitorPolicy:
        uploads = Path(settings.index) / UPLOADS
        roots = tuple(settings.library) or (BUNDLED_CORPUS,)
        return cls(
            roots=tuple(p.resolve() for p in (*roots, uploads)),
            uploads=uploads,
            llm_urls=tuple(u for u in dict.fromkeys((settings.llm_url, *settings.allow_llm_url))
                           if u),
            max_upload_bytes=int(settings.max_upload_mb * MB),
            max_upload_files=settings.max_upload_files,
            max_upload_total_bytes=int(settings.max_upload_total_mb * MB),
            max_question_chars=settings.max_question_chars,
            max_k=settings.max_k,
        )

    def ingest_path(self, text: str) -> Path:
        """The file or folder a visitor named, if it lies inside a library root. The refusal
        is the same whether the path exists or not, so it reveals nothing about the server."""
        if is_url(text.strip()):
            raise RagError("the server does not fetch web pages for visitors; the operator "
                           "can add them with 'rag ingest URL' or 'rag ingest --feed URL'")
        if "\x00" in text:  # no file name holds one; the OS calls would raise
            raise RagError(f"that path: {OUTSIDE_LIBRARY}")
        path = Path(text.strip()).expanduser()
        if not text.strip() or not is_within(path, list(self.roots)):
            raise RagError(f"{text.strip() or 'that path'}: {OUTSIDE_LIBRARY}; ask the "
                           "operator to add its folder with 'rag serve --library DIR'")
        if not path.exists():
            raise RagError(f"{text.strip()}: no such file or folder in the library")
        return path

    def store_uploads(self, files: list[Path], arrived_in: Path) -> list[Path]:
        """Copy uploaded files into the uploads folder under sanitized names, within the
        limits. ``arrived_in`` is where the web framework put them: anything else offered
        as an upload (a server path named through the API) is refused."""
        if len(files) > self.max_upload_files:
            raise RagError(f"{len(files)} files in one upload; at most "
                           f"{self.max_upload_files}")
        sizes = {}
        for file in files:
            if not is_within(file, [arrived_in]) or not file.is_file():
                raise RagError(f"{file.name}: not an uploaded file")
            sizes[file] = file.stat().st_size
            if sizes[file] > self.max_upload_bytes:
                raise RagError(f"{file.name} is {sizes[file] / MB:.1f} MB; uploads may be at "
                               f"most {self.max_upload_bytes / MB:g} MB each")
        if sum(sizes.values()) > self.max_upload_total_bytes:
            raise RagError(f"this upload is {sum(sizes.values()) / MB:.1f} MB; at most "
                           f"{self.max_upload_total_bytes / MB:g} MB per request")
        self.uploads.mkdir(parents=True, exist_ok=True)
        stored = []
        for file in files:
            data = file.read_bytes()  # within the size limit checked above
            target = _free_name(self.uploads, upload_name(file.name), data)
            atomic_write(target, data)
            stored.append(target)
        return stored

    @staticmethod
    def may_remove(article_id: str) -> bool:
        """Visitors may remove what visitors uploaded, never the operator's articles."""
        return article_id.startswith(UPLOAD_PREFIX)

    def removable(self, article_ids: list[str]) -> list[str]:
        """``article_ids`` if a visitor may remove every one of them (``may_remove``)."""
        others = [a for a in article_ids if not self.may_remove(a)]
        if others:
            raise RagError(f"{others[0]} is the operator's article; visitors can remove only "
                           "uploaded ones (the operator can run 'rag remove ID')")
        return article_ids

    def llm_url(self, url: str) -> str:
        """A generator URL a visitor chose: '' (the local model) or one the operator listed."""
        url = url.strip()
        if url and url not in self.llm_urls:
            listed = ", ".join(self.llm_urls) or "none"
            raise RagError(f"this server only uses the generator servers its operator listed "
                           f"({listed}); choose one of them or the local model")
        return url

    def question(self, text: str) -> str:
        if len(text) > self.max_question_chars:
            raise RagError(f"the question has {len(text)} characters; at most "
                           f"{self.max_question_chars}")
        return text

    def k(self, value: float | int | None, default: int) -> int:
        """A passage count within 1..max_k (``default`` when not given)."""
        return max(1, min(int(value or default), self.max_k))


def _free_name(folder: Path, name: str, data: bytes) -> Path:
    """``folder/name``, or with a suffix (``-2``…) where a different file has that name: an
    upload never overwrites another ("my article.md" and "my-article.md" sanitize alike).
    The same bytes again reuse their file."""
    stem, suffix = Path(name).stem, Path(name).suffix
    target, n = folder / name, 1
    while target.exists() and target.read_bytes() != data:
        n += 1
        target = folder / f"{stem}-{n}{suffix}"
    return target


def upload_name(name: str) -> str:
    """A file name safe to create in the uploads folder: the base name only, unsafe runs
    replaced, no leading dot, bounded length, its suffix kept (ingest judges the type)."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, _UNSAFE_NAME.sub("", Path(base).suffix)[:12]
    return (_UNSAFE_NAME.sub("-", stem).strip(".-")[:80] or "upload") + suffix.lower()
