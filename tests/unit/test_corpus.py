"""Reading each input format into articles, and refusing bad input with a one-line reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.core.errors import UnreadableInput
from rag.sources.corpus import discover, read_file
from tests.conftest import SAMPLE

MB = 1_000_000


def minimal_pdf(text: str, title: str = "A PDF title") -> bytes:
    """A valid one-page PDF showing ``text``, built by hand so tests need no PDF writer."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Title ({title}) >>".encode(),
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return out


def test_press_release_trailer_becomes_metadata_and_leaves_the_body():
    article = read_file(SAMPLE, 20 * MB).articles[0]
    assert article.id == "000_c385f1c34fdd9a0c"
    assert article.title == (
        "hUCMSCs restore ovarian function via angiopoietin 1/2 rebalance in POI rats"
    )
    assert article.doi == "https://doi.org/10.1186/s13048-025-01856-3"
    assert "primary ovarian insufficiency" in article.keywords
    assert article.date == "2025"
    assert "Luo, Q., Liu, C., Su, Y." in article.extra["references"]
    assert "DOI:" not in article.text and "Keywords:" not in article.text
    assert "Article Title:" not in article.text
    assert article.text.endswith("affected by ovarian dysfunction.")
    assert "angiopoietin 1 and 2" in article.text


def test_markdown_front_matter_gives_id_title_date_and_keywords(tmp_path: Path):
    path = tmp_path / "note.md"
    path.write_text("---\nid: pm-1\ntitle: A study\ndate: 2020-05-01\nkeywords: [a, b]\n"
                    "authors: Ann Lee; Bo Chen\n---\n\n# Heading\n\nBody text here.\n")
    article = read_file(path, MB).articles[0]
    assert (article.id, article.title, article.date) == ("pm-1", "A study", "2020-05-01")
    assert article.keywords == ["a", "b"]
    assert article.authors == ["Ann Lee", "Bo Chen"]
    assert article.text == "# Heading\n\nBody text here."


def test_markdown_without_front_matter_takes_title_from_first_heading(tmp_path: Path):
    path = tmp_path / "plain.md"
    path.write_text("# Stem cells and ovaries\n\nSome text.\n")
    assert read_file(path, MB).articles[0].title == "Stem cells and ovaries"


def test_html_page_gives_main_text_and_metadata_without_boilerplate(tmp_path: Path):
    path = tmp_path / "page.html"
    body = " ".join(["Researchers found that the new therapy restored function in rats."] * 6)
    path.write_text(
        "<html><head><title>Therapy news</title><meta name='author' content='Jo Reporter'>"
        "<meta property='article:published_time' content='2024-03-02'></head><body>"
        "<nav><a href='/'>Home</a> | <a href='/about'>About us</a></nav>"
        f"<article><h1>Therapy news</h1><p>{body}</p><p>{body}</p></article>"
        "<footer>Copyright 2024 Example Media. All rights reserved.</footer></body></html>"
    )
    article = read_file(path, MB).articles[0]
    assert article.title == "Therapy news"
    assert article.authors == ["Jo Reporter"]
    assert article.date == "2024-03-02"
    assert "restored function in rats" in article.text
    assert "All rights reserved" not in article.text and "About us" not in article.text


def test_pdf_text_and_title_are_extracted(tmp_path: Path):
    path = tmp_path / "paper.pdf"
    path.write_bytes(minimal_pdf("Angiopoietin balance matters in ovaries."))
    article = read_file(path, MB).articles[0]
    assert "Angiopoietin balance matters" in article.text
    assert article.title == "A PDF title"


def test_jsonl_reads_every_record_and_reports_bad_lines_without_losing_good_ones(tmp_path):
    path = tmp_path / "batch.jsonl"
    path.write_text(
        json.dumps({"id": "a1", "title": "First", "text": "One text.", "authors": ["X"]}) + "\n"
        + "{not json\n"
        + json.dumps({"id": "a3", "title": "No text"}) + "\n"
        + json.dumps({"title": "No id", "text": "Second text."}) + "\n"
    )
    parsed = read_file(path, MB)
    assert [a.id for a in parsed.articles][0] == "a1"
    assert parsed.articles[1].id.startswith("sha-")  # stable content-hash id
    assert [f.path.rsplit(":", 1)[1] for f in parsed.failures] == ["2", "3"]
    assert all("\n" not in f.reason for f in parsed.failures)


def test_single_json_object_uses_file_stem_as_default_id(tmp_path: Path):
    path = tmp_path / "story.json"
    path.write_text(json.dumps({"title": "T", "text": "Body.", "date": "2021"}))
    assert read_file(path, MB).articles[0].id == "story"


def test_utf16_with_byte_order_mark_is_decoded(tmp_path: Path):
    path = tmp_path / "wide.txt"
    path.write_bytes("Café studies of ovarian function.".encode("utf-16"))
    assert read_file(path, MB).articles[0].text == "Café studies of ovarian function."


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"   \n\n  ", "no article text"),
        ("binary.txt", bytes(range(256)) * 4, "binary content"),
        ("latin1.txt", "Caf\u00e9 au lait".encode("latin-1"), "re-save the file as UTF-8"),
        ("broken.pdf", minimal_pdf("Some text")[:120], "malformed PDF"),
        ("zero.pdf", b"", "empty file"),
        ("nobody.html", b"<html><head><title>x</title></head></html>", "no article text"),
        ("bad.json", b"{\"text\": ", "malformed JSON"),
        ("notext.json", b"{\"title\": \"only a title\"}", "missing or empty 'text'"),
        ("bad-front.md", b"---\nkey: [unclosed\n---\nBody", "malformed YAML front matter"),
    ],
)
def test_bad_input_is_refused_with_a_one_line_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableInput) as raised:
        read_file(path, MB)
    assert reason in str(raised.value)
    assert "\n" not in str(raised.value)


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path):
    path = tmp_path / "huge.txt"
    path.write_bytes(b"word " * 300_000)  # 1.5 MB against a 1 MB limit
    with pytest.raises(UnreadableInput, match=r"1\.5 MB, over the 1 MB limit"):
        read_file(path, MB)


def test_discover_walks_folders_skips_readmes_and_survives_symlink_loops(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("A.")
    (tmp_path / "sub" / "b.md").write_text("B.")
    (tmp_path / "README.md").write_text("notes")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path)
    files, failures = discover([tmp_path, tmp_path / "missing.txt", tmp_path / "image.png"])
    assert sorted(p.name for p in files) == ["a.txt", "b.md"]
    reasons = [f.reason for f in failures]
    assert reasons[0].startswith("symlinked folder not followed")
    assert reasons[1] == "no such file or folder"
    assert "unsupported file type '.png'" in reasons[2]


@pytest.mark.parametrize(("raw", "date"), [("2020-05-01T10:00:00Z", "2020-05-01"),
                                           ("2011", "2011"), ("None", ""), ("last spring", "")])
def test_only_iso_like_dates_count_as_dates(tmp_path: Path, raw: str, date: str):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"text": "Body.", "date": raw}))
    article = read_file(path, MB).articles[0]
    assert article.date == date
    assert article.extra.get("date_text", raw) == raw
