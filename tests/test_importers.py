"""Importing demonstrations from pasted text and from files."""

from __future__ import annotations

import os
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ditto_desk.core.importing.files import (
    MAX_FILE_BYTES,
    MAX_TEXT_CHARS,
    ImportResult,
    Refusal,
    import_paths,
    import_text,
)
from ditto_desk.core.texts.prompts import derive_prompt

SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples"
BODY = "The release slipped a day, sorry. We'll ship on Thursday instead and I'll update the board."
# Accented Western text: the kind Latin-1 / cp1252 files are full of.
ACCENTED = (
    "Café au lait with Zoë and Agnès - a naïve résumé of the façade, déjà vu at the château. "
    "Grüße aus Köln, señor Núñez; we'll meet at the crème brûlée stand."
)
SMART_QUOTES = "She said “hello” – then “goodbye”. It’s the café’s fault… naïve, really. Ask Zoë why."


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def only_demo(result: ImportResult):
    assert result.refused == []
    assert len(result.demonstrations) == 1
    return result.demonstrations[0]


def only_refusal(result: ImportResult) -> Refusal:
    assert result.demonstrations == []
    assert len(result.refused) == 1
    return result.refused[0]


def make_eml(path: Path, body: str, subject: str = "Re: Release date", html: str | None = None) -> Path:
    message = EmailMessage()
    message["From"] = "Ann <ann@example.com>"
    message["To"] = "Team <team@example.com>"
    message["Subject"] = subject
    message["Date"] = "Tue, 04 Mar 2025 10:41:07 +0000"
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return write(path, bytes(message))


def make_docx(path: Path, paragraphs: list[str]) -> Path:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(path))
    return path


# --- pasted text ------------------------------------------------------------------------------------


def test_import_text_normalises_and_derives_a_prompt() -> None:
    demo = only_demo(import_text("  \r\nHi team,\r\n\r\n" + BODY + "\r\n\n  "))
    assert demo.text == "Hi team,\n\n" + BODY
    assert demo.source == "pasted"
    assert demo.prompt == 'Write a text that starts with: "The release slipped a day, sorry."'


def test_import_text_keeps_the_given_source() -> None:
    assert only_demo(import_text(BODY, source="clipboard")).source == "clipboard"


@pytest.mark.parametrize("text", ["", "   \n\t  \r\n"])
def test_empty_text_is_refused(text: str) -> None:
    refusal = only_refusal(import_text(text))
    assert refusal.source == "pasted"
    assert "empty" in refusal.reason


def test_short_long_and_binary_text_is_refused() -> None:
    assert "too short to learn from (2 words)" in only_refusal(import_text("Thanks, Ann")).reason
    long_reason = only_refusal(import_text("word " * MAX_TEXT_CHARS)).reason
    assert "too long" in long_reason and "excerpt" in long_reason
    assert "looks binary" in only_refusal(import_text("abc\x00def " * 10)).reason
    assert "looks binary" in only_refusal(import_text("\x01\x02\x03\x04 some words here " * 5)).reason


# --- formats ----------------------------------------------------------------------------------------


def test_txt_md_and_extensionless_files_import(tmp_path: Path) -> None:
    markdown = "# Notes\n\n1. **Review within a day.** Say so if you can't.\n2. Keep PRs small, please."
    txt = write(tmp_path / "a.txt", "\ufeff" + BODY + "\n")
    md = write(tmp_path / "b.md", markdown)
    bare = write(tmp_path / "NOTES", BODY)
    result = import_paths([txt, md, bare])
    assert result.refused == []
    by_source = {d.source: d for d in result.demonstrations}
    assert by_source[str(txt)].text == BODY
    assert by_source[str(md)].text == markdown  # markdown is kept as written
    assert by_source[str(md)].prompt == 'Write a text that starts with: "Notes"'
    assert by_source[str(bare)].text == BODY
    assert all(d.prompt for d in result.demonstrations)


@pytest.mark.parametrize(
    ("front", "title"),
    [
        ('---\ntitle: "Moving the retro"\ndate: 2026-03-01\ntags: [team]\n---\n', "Moving the retro"),
        ("+++\ntitle = 'Moving the retro'\ndraft = false\n+++\n\n", "Moving the retro"),
        ("---\nlayout: post\n---\n", None),
    ],
)
def test_a_posts_front_matter_is_not_its_words_and_its_title_is_the_request(
    tmp_path: Path, front: str, title: str | None
) -> None:
    post = write(tmp_path / "post.md", "\ufeff" + front + BODY)
    (demo,) = import_paths([post]).demonstrations
    assert demo.text == BODY
    assert demo.prompt == (f"Write an email about: {title}" if title else derive_prompt(BODY))


def test_a_text_that_opens_with_a_rule_keeps_it(tmp_path: Path) -> None:
    text = "---\nNot front matter, just a rule above a note.\n---\n" + BODY
    assert import_paths([write(tmp_path / "note.md", text)]).demonstrations[0].text == text


@pytest.mark.parametrize("suffix", [".html", ".htm"])
def test_html_gives_visible_text_with_paragraphs(tmp_path: Path, suffix: str) -> None:
    html = """<!DOCTYPE html><html><head><title>Blog</title><style>p {color: red}</style></head>
    <body><script>alert("no")</script><!-- a comment -->
    <h1>Shipping late</h1>
    <p>The release   slipped
       a day, sorry.</p><p>We'll ship on Thursday<br>instead &amp; update the board.</p>
    <ul><li>one thing</li><li>another</li></ul></body></html>"""
    demo = only_demo(import_paths([write(tmp_path / f"post{suffix}", html)]))
    assert demo.text == (
        "Shipping late\n\nThe release slipped a day, sorry.\n\nWe'll ship on Thursday\n"
        "instead & update the board.\n\none thing\n\nanother"
    )
    for hidden in ("alert", "color", "Blog", "comment"):
        assert hidden not in demo.text


def test_docx_paragraphs_are_joined_by_blank_lines(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "letter.docx", ["Dear Ann,", "", BODY, "Best, Maren"])
    demo = only_demo(import_paths([path]))
    assert demo.text == f"Dear Ann,\n\n{BODY}\n\nBest, Maren"
    assert demo.source == str(path)
    assert demo.prompt == 'Write a text that starts with: "The release slipped a day, sorry."'


def test_eml_subject_gives_the_prompt_and_quotes_and_signature_are_removed(tmp_path: Path) -> None:
    body = (
        f"Hi all,\n\n{BODY}\n\nCheers,\nAnn\n\n-- \nAnn Smith | Release Manager\n+44 20 7946 0000\n\n"
        "On Tue, 4 Mar 2025 at 09:12, Bob <bob@example.com> wrote:\n> When do we ship?\n> Thanks\n"
    )
    demo = only_demo(import_paths([make_eml(tmp_path / "mail.eml", body, subject="Re: Fwd: Release date")]))
    assert demo.prompt == "Write an email about: Release date"
    assert demo.text == f"Hi all,\n\n{BODY}\n\nCheers,\nAnn"


def test_eml_inline_quotes_wrapped_attribution_and_original_message_are_removed(tmp_path: Path) -> None:
    inline = f"> Can you ship Thursday?\nYes, we can.\n> And the docs?\nThose too. {BODY}\n"
    wrapped = f"{BODY}\n\nOn Tue, 4 Mar 2025 at 09:12, Bob Example <bob.example@example.com>\nwrote:\n\nhi\n"
    outlook = f"{BODY}\n\n-----Original Message-----\nFrom: Bob\nSent: Tuesday\n\nWhen do we ship?\n"
    bare_dashes = f"{BODY}\n--\nAnn\n"
    result = import_paths(
        [make_eml(tmp_path / f"{name}.eml", body) for name, body in [("a", inline), ("b", wrapped)]]
        + [make_eml(tmp_path / f"{name}.eml", body) for name, body in [("c", outlook), ("d", bare_dashes)]]
    )
    assert result.refused == []
    texts = [d.text for d in result.demonstrations]
    assert texts == [f"Yes, we can.\nThose too. {BODY}", BODY, BODY, BODY]


def test_html_only_eml_gives_visible_text_without_the_quoted_reply(tmp_path: Path) -> None:
    message = EmailMessage()
    message["Subject"] = "Release date"
    html = (
        f"<html><body><p>{BODY}</p><p>Ann</p><div class='gmail_quote'>On Tue Bob wrote:"
        "<blockquote>When do we ship?</blockquote></div></body></html>"
    )
    message.set_content(html, subtype="html")
    demo = only_demo(import_paths([write(tmp_path / "html.eml", bytes(message))]))
    assert demo.text == f"{BODY}\n\nAnn"
    assert demo.prompt == "Write an email about: Release date"


def test_multipart_eml_prefers_the_plain_part(tmp_path: Path) -> None:
    path = make_eml(tmp_path / "alt.eml", BODY, html="<p>HTML version of the same words here.</p>")
    assert only_demo(import_paths([path])).text == BODY


def test_eml_with_a_latin1_or_wrongly_declared_charset(tmp_path: Path) -> None:
    headers = "Subject: Café\nMIME-Version: 1.0\nContent-Transfer-Encoding: 8bit\n"
    latin = (headers + 'Content-Type: text/plain; charset="iso-8859-1"\n\n').encode() + ACCENTED.encode("latin-1")
    bogus = (headers + 'Content-Type: text/plain; charset="x-nonsense"\n\n').encode() + ACCENTED.encode()
    result = import_paths([write(tmp_path / "a.eml", latin), write(tmp_path / "b.eml", bogus)])
    assert [d.text for d in result.demonstrations] == [ACCENTED, ACCENTED]


def test_eml_that_is_only_a_quote_is_refused(tmp_path: Path) -> None:
    body = "On Tue, 4 Mar 2025, Bob <bob@example.com> wrote:\n> When do we ship?\n"
    refusal = only_refusal(import_paths([make_eml(tmp_path / "fwd.eml", body)]))
    assert "quoted" in refusal.reason


# --- encodings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (ACCENTED, "latin-1"),
        (SMART_QUOTES, "cp1252"),
        (ACCENTED, "utf-8"),
        (ACCENTED, "utf-8-sig"),
        (ACCENTED, "utf-16"),  # with a BOM
        (ACCENTED, "utf-16-le"),  # without one
        (ACCENTED, "utf-16-be"),
        (ACCENTED, "utf-32"),
    ],
)
def test_encodings_are_detected(tmp_path: Path, text: str, encoding: str) -> None:
    demo = only_demo(import_paths([write(tmp_path / "x.txt", text.encode(encoding))]))
    assert demo.text == text


def test_cp1252_html_decodes(tmp_path: Path) -> None:
    html = f"<p>{SMART_QUOTES}</p>".encode("cp1252")
    assert only_demo(import_paths([write(tmp_path / "x.html", html)])).text == SMART_QUOTES


# --- refusals ---------------------------------------------------------------------------------------


def test_each_bad_file_is_refused_with_its_reason_and_good_ones_still_import(tmp_path: Path) -> None:
    good = [write(tmp_path / "good.txt", BODY), make_docx(tmp_path / "good.docx", [BODY])]
    sparse = tmp_path / "huge.txt"
    with sparse.open("wb") as handle:  # sparse: the size check must come before any read
        handle.truncate(3_200_000)
    bad = {
        write(tmp_path / "empty.txt", b""): "empty file",
        write(tmp_path / "blank.md", " \n\n\t "): "contains no text",
        write(tmp_path / "binary.txt", b"\x7fELF\x02\x01\x01\x00\x00\x00" * 20): "looks binary (not text)",
        sparse: "too large: 3.2 MB, the limit is 1 MB",
        write(tmp_path / "big.txt", b"a" * (MAX_FILE_BYTES + 1)): "too large: 1,000,001 bytes, the limit is 1 MB",
        write(
            tmp_path / "long.txt", "word " * (MAX_TEXT_CHARS // 4)
        ): "too long: 24,999 characters, the limit is 20,000",
        write(tmp_path / "photo.xyz", BODY): "unsupported file type .xyz; use .txt, .md, .eml, .html or .docx",
        write(tmp_path / "report.pdf", BODY): "PDF files are not supported",
        write(tmp_path / "broken.docx", b"PK\x03\x04 not really a zip"): "not a readable Word document",
        write(tmp_path / "weird.txt", bytes(range(0x80, 0x100)) * 4): "could not work out the text encoding",
        write(tmp_path / "tiny.txt", "ok thanks"): "too short to learn from (2 words)",
        tmp_path / "missing.txt": "not found",
    }
    result = import_paths([*bad, *good])
    assert [d.source for d in result.demonstrations] == [str(p) for p in good]
    assert [d.text for d in result.demonstrations] == [BODY, BODY]
    reasons = {r.source: r.reason for r in result.refused}
    assert len(result.refused) == len(bad)
    for path, expected in bad.items():
        assert expected in reasons[str(path)], (path.name, reasons[str(path)])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_is_refused_instead_of_blocking(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    assert only_refusal(import_paths([pipe])).reason == "not a regular file"


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads everything")
def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.txt", BODY)
    path.chmod(0)
    try:
        assert only_refusal(import_paths([path])).reason.startswith("could not read: permission denied")
    finally:
        path.chmod(0o600)


# --- folders ----------------------------------------------------------------------------------------


def test_folder_imports_recursively_sorted_skipping_hidden_files(tmp_path: Path) -> None:
    write(tmp_path / "b.txt", BODY)
    write(tmp_path / "a.md", BODY)
    write(tmp_path / "sub" / "c.txt", BODY)
    write(tmp_path / "sub" / "image.png", b"\x89PNG\r\n\x1a\n\x00\x00")
    write(tmp_path / ".DS_Store", b"\x00\x00\x00\x01Bud1")
    write(tmp_path / ".git" / "config", BODY)
    write(tmp_path / "~$letter.docx", b"lock")
    result = import_paths([tmp_path])
    names = [Path(d.source).relative_to(tmp_path).as_posix() for d in result.demonstrations]
    assert names == ["a.md", "b.txt", "sub/c.txt"]
    assert [(Path(r.source).name, r.reason.split(";")[0]) for r in result.refused] == [
        ("image.png", "unsupported file type .png")
    ]


def test_empty_folder_is_refused_and_duplicates_import_once(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    text = write(tmp_path / "a.txt", BODY)
    result = import_paths([tmp_path / "empty", text, str(text), tmp_path])
    assert [d.source for d in result.demonstrations] == [str(text)]
    assert result.refused == [Refusal(str(tmp_path / "empty"), "this folder has no files to import")]


# --- the shipped samples ----------------------------------------------------------------------------


def test_shipped_samples_import_cleanly() -> None:
    files = sorted(p for p in SAMPLES.iterdir() if p.name != "README.md")
    assert {p.suffix for p in files} == {".eml", ".txt", ".md"} and len(files) == 4
    result = import_paths(files)
    assert result.refused == []
    assert len(result.demonstrations) == 4
    for demo in result.demonstrations:
        assert demo.prompt.strip()
        assert 90 <= len(demo.text.split()) <= 150
        assert demo.text.startswith("hey all —")
        assert demo.text.endswith("onward,\nMaren")
        lines = demo.text.splitlines()
        assert not any(line.startswith(">") or line.rstrip() == "--" for line in lines)
        assert "wrote:" not in demo.text and "Northwind Labs" not in demo.text
    emails = [d for d in result.demonstrations if d.source.endswith(".eml")]
    assert [d.prompt for d in emails] == [
        "Write an email about: release freeze from Thursday",
        "Write an email about: offsite plans — the short version",
    ]


# --- fuzzing ----------------------------------------------------------------------------------------

SUFFIXES = [".txt", ".md", ".eml", ".html", ".htm", ".docx", ""]
# Random bytes, plus text in common encodings (random bytes alone are nearly always refused early).
CONTENTS = st.one_of(
    st.binary(max_size=2000),
    st.tuples(st.text(max_size=600), st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-8-sig"])).map(
        lambda pair: pair[0].encode(pair[1], errors="replace")
    ),
    st.text(alphabet=st.characters(max_codepoint=255), max_size=600).map(lambda t: t.encode("latin-1")),
    st.binary(max_size=300).map(lambda b: b"Subject: hi\nContent-Type: text/html; charset=utf-8\n\n" + b),
    st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=CONTENTS)
def test_any_bytes_in_any_supported_file_give_exactly_one_result(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = [write(Path(folder) / f"fuzz{suffix or '_bare'}", content) for suffix in SUFFIXES]
        result = import_paths(paths)
    sources = [d.source for d in result.demonstrations] + [r.source for r in result.refused]
    assert sorted(sources) == sorted(str(p) for p in paths)
    for demo in result.demonstrations:
        assert demo.text.strip() and demo.prompt.strip()
        assert "\x00" not in demo.text and len(demo.text) <= MAX_TEXT_CHARS
    assert all(r.reason for r in result.refused)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=1000))
def test_any_text_gives_exactly_one_result(text: str) -> None:
    result = import_text(text)
    assert len(result.demonstrations) + len(result.refused) == 1
    for demo in result.demonstrations:
        assert demo.text == demo.text.strip() and demo.prompt.strip()


def test_real_mail_shapes_keep_the_authors_own_paragraphs(tmp_path: Path) -> None:
    """Inline and bottom-posted replies as real clients write them: the author's words between quotes stay."""
    gmail_inline = (
        "On Tue, 4 Mar 2025 at 09:12, Bob <bob@example.com> wrote:\n> Can you ship Thursday?\n\n"
        "Yes, we can ship on Thursday morning.\n\n> And the docs?\n\nThose too, they are nearly done.\n"
    )
    supercite = "    GM> Java is for kiddies.\n\nIt is not, and the build farm proves it every single night.\n"
    bracketed = "[Tim]\n> Another area.\n\n[Neil]\n> Spammers could exploit this.\n\nNote that it works for everyone.\n"
    said = "Bart said:\n\n> argh, they do not\n\nMy point is that spam should hit five, not more.\n"
    footer = f"{BODY}\n\n-------------------------------------------------------\nThis list is sponsored by X\n"
    bodies = [gmail_inline, supercite, bracketed, said, footer]
    result = import_paths([make_eml(tmp_path / f"{i}.eml", body) for i, body in enumerate(bodies)])
    assert result.refused == []
    assert [d.text for d in result.demonstrations] == [
        "Yes, we can ship on Thursday morning.\n\nThose too, they are nearly done.",
        "It is not, and the build farm proves it every single night.",
        "Note that it works for everyone.",
        "My point is that spam should hit five, not more.",
        BODY,
    ]


def test_a_mailing_list_tag_is_not_part_of_the_request() -> None:
    assert derive_prompt("text", subject="[Spambayes] Re: [SAtalk] test sets?") == "Write an email about: test sets?"


def test_the_real_mail_corpus_imports_whole() -> None:
    corpus = Path(__file__).resolve().parent.parent / "resources" / "mail-corpus"
    result = import_paths([p for p in corpus.iterdir() if p.is_dir()])
    assert result.refused == []
    assert len(result.demonstrations) == 36
    assert not any(line.lstrip().startswith(">") for d in result.demonstrations for line in d.text.splitlines())


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_an_email_saved_as_utf16_or_with_a_byte_order_mark_imports_as_any_email(tmp_path: Path, encoding: str) -> None:
    mail = f"From: Ann <ann@example.org>\nSubject: The release\nContent-Type: text/plain; charset=utf-8\n\n{BODY}\n"
    saved = tmp_path / "saved.eml"
    saved.write_bytes(mail.encode(encoding))
    (demo,) = import_paths([saved]).demonstrations
    assert demo.text == BODY and demo.prompt == "Write an email about: The release"


def test_an_html_table_reads_row_by_row_not_cell_by_cell(tmp_path: Path) -> None:
    page = (
        "<p>Here is the rota for next week, as we agreed on Friday.</p><table><tr><th>Day</th><th>Who</th></tr>"
        "<tr><td>Monday</td><td>Ann</td></tr><tr><td>Tuesday</td><td>Bo</td></tr></table><p>Thanks, Maren</p>"
    )
    (demo,) = import_paths([write(tmp_path / "rota.html", page)]).demonstrations
    rota = "Day | Who\nMonday | Ann\nTuesday | Bo"
    assert demo.text == f"Here is the rota for next week, as we agreed on Friday.\n\n{rota}\n\nThanks, Maren"
