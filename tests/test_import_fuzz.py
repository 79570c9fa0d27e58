"""Property-based tests: random and adversarial bytes, HTML, .eml and .docx through the importers.

Whatever comes in, ``import_paths`` returns one demonstration or one refusal per file and raises nothing, and
every refusal is one of the importers' own sentences: never the catch-all "could not import this file
(SomeError)", which would mean an input reached code that did not expect it."""

from __future__ import annotations

import base64
import io
import quopri
import re
import tempfile
import zipfile
from pathlib import Path

import docx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ditto_desk.core.errors import Refused
from ditto_desk.core.importing.files import MAX_TEXT_CHARS, ImportResult, import_paths, import_text
from ditto_desk.core.importing.html import html_to_text
from ditto_desk.core.texts.mail import strip_quotes_and_signature

# derandomize: CI sees the examples a developer saw; run with more examples by hand to hunt for new ones.
FUZZ = settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
CATCH_ALL = ("could not import this file (", "could not import this text (")


def import_bytes(data: bytes, *suffixes: str) -> ImportResult:
    """Imports ``data`` saved under each suffix, and checks what every importer must guarantee."""
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder, f"input{suffix}") for suffix in suffixes]
        for path in paths:
            path.write_bytes(data)
        result = import_paths(paths)
    assert sorted([d.source for d in result.demonstrations] + [r.source for r in result.refused]) == sorted(
        str(p) for p in paths
    )
    assert_sound(result)
    return result


def assert_sound(result: ImportResult) -> None:
    for refusal in result.refused:
        assert refusal.reason and not refusal.reason.startswith(CATCH_ALL), refusal.reason
    for demo in result.demonstrations:
        assert demo.text and demo.text == demo.text.strip() and demo.prompt.strip()
        assert "\x00" not in demo.text and "\x1b" not in demo.text and len(demo.text) <= MAX_TEXT_CHARS


# --- building blocks --------------------------------------------------------------------------------

WORDS = st.sampled_from(
    "the release slipped a day sorry we ship Thursday Café Grüße naïve 日本語 €5 — “quoted”".split()  # noqa: SIM905
).map(lambda word: word + " ")
MAIL_LINES = st.sampled_from(
    [
        "On Tue, 4 Mar 2025 at 09:12, Bob <bob@example.com> wrote:",
        "On Tue, Mar 4, 2025 at 9:12 AM Bob <",
        "bob@example.com> wrote:",
        "> quoted line",
        ">> deeper",
        "GM> supercite",
        "[Tim]",
        "-- ",
        "--",
        "-----Original Message-----",
        "Begin forwarded message:",
        "From: Bob <bob@example.com>",
        "Sent: Tuesday, March 4, 2025",
        "To: Ann",
        "Subject: hi",
        "________________________________",
        "Sent from my iPhone",
        "* Bob <bob@example.com> [2025-03-04 09:12]:",
        "Am Di., 4. März 2025 um 09:12 Uhr schrieb Bob <bob@example.com>:",
        "",
    ]
)
TEXT = st.one_of(st.text(max_size=80), st.lists(WORDS, max_size=30).map("".join))
MAIL_BODY = st.lists(st.one_of(MAIL_LINES, TEXT), max_size=25).map("\n".join)

TAGS = (  # noqa: SIM905
    "p div br span b a pre blockquote script style head body html table tr td li ul title svg template iframe "
    "noscript h1 hr img textarea select option font o:p w:t"
).split()
CLASSES = ["gmail_quote", "gmail_attr", "gmail_signature", "moz-cite-prefix", "moz-signature", "yahoo_quoted", "x y"]
OPEN_TAG = st.builds(
    lambda tag, cls, extra: f"<{tag}{f' class={cls!r}' if cls else ''}{extra}>",
    st.sampled_from(TAGS),
    st.none() | st.sampled_from(CLASSES),
    st.sampled_from(["", " type=cite", ' style="color:red"', " a", ' b="', " /", "\n"]),
)
HTML_JUNK = st.sampled_from(
    ["<", ">", "&", "&amp;", "&#0;", "&#x110000;", "&bogus;", "&nbsp;", "<!--", "-->", "<![CDATA[", "]]>", "<?x ?>",
     "<!DOCTYPE html>", "<meta charset='iso-8859-1'>", "\x00", "\r\n", "\x1b[31m", "</", "<a<a<a"]
)  # fmt: skip
HTML = st.lists(
    st.one_of(OPEN_TAG, st.sampled_from(TAGS).map(lambda tag: f"</{tag}>"), HTML_JUNK, TEXT, MAIL_LINES),
    max_size=60,
).map("".join)


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` as it is, cut short, or with a few bytes changed or inserted (a damaged copy)."""
    how = draw(st.sampled_from(["as is", "as is", "cut", "flip", "insert"]))
    if not data or how == "as is":
        return data
    at = draw(st.integers(0, len(data) - 1))
    if how == "cut":
        return data[:at]
    if how == "flip":
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    return data[:at] + draw(st.binary(min_size=1, max_size=20)) + data[at:]


# --- HTML ---------------------------------------------------------------------------------------------


@FUZZ
@given(html=HTML, mark_quotes=st.booleans())
def test_html_to_text_returns_stripped_text_or_refuses(html: str, mark_quotes: bool) -> None:
    try:
        text = html_to_text(html, mark_quotes=mark_quotes)
    except Refused as refused:
        assert refused.reason.startswith("too much markup")
        return
    assert text == text.strip()
    assert "\n\n\n" not in text


@FUZZ
@given(html=HTML, encoding=st.sampled_from(["utf-8", "utf-16", "cp1252", "latin-1"]))
def test_any_html_page_gives_one_sound_result(html: str, encoding: str) -> None:
    import_bytes(html.encode(encoding, errors="replace"), ".html", ".htm")


# --- mail ---------------------------------------------------------------------------------------------

CHARSETS = [None, "utf-8", "iso-8859-1", "x-bogus", "punycode", "utf-7", "utf-16", "base64", "idna", "rot13", '"']
TRANSFER = [None, "7bit", "8bit", "base64", "base64-broken", "quoted-printable", "x-uuencode", "bogus"]


@st.composite
def mime_part(draw: st.DrawFn, depth: int = 0) -> bytes:
    kinds = ["leaf", "leaf"] + (["multipart", "message"] if depth < 4 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "multipart":
        boundary = draw(st.sampled_from(["b", "=_x", "", "a b", "--", '"', "x" * 80]) | st.text("abc-=_ ", max_size=8))
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "digest", "bogus"]))
        children = draw(st.lists(mime_part(depth + 1), max_size=3))
        closing = draw(st.sampled_from([f"--{boundary}--\n", ""]))
        body = b"".join(f"--{boundary}\n".encode() + child + b"\n" for child in children) + closing.encode()
        return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n\n'.encode() + body
    if kind == "message":
        return b"Content-Type: message/rfc822\n\nSubject: inner\n" + draw(mime_part(depth + 1))
    subtype = draw(st.sampled_from(["plain", "html", "enriched"]))
    charset = draw(st.sampled_from(CHARSETS))
    transfer = draw(st.sampled_from(TRANSFER))
    text = draw(HTML if subtype == "html" else MAIL_BODY)
    try:
        raw = text.encode(charset or "utf-8", errors="replace")
    except (LookupError, UnicodeError):  # not a codec, or one without "replace" (idna)
        raw = text.encode("utf-8")
    if transfer and transfer.startswith("base64"):
        raw = base64.encodebytes(raw)
        if transfer == "base64-broken":
            raw = raw[: draw(st.integers(0, len(raw)))] + draw(st.sampled_from([b"", b"*", b"=", b"!!"]))
        transfer = "base64"
    elif transfer == "quoted-printable":
        raw = quopri.encodestring(raw)
    headers = f"Content-Type: text/{subtype}" + (f"; charset={charset}" if charset else "") + "\n"
    if transfer:
        headers += f"Content-Transfer-Encoding: {transfer}\n"
    if draw(st.booleans()):
        headers += draw(st.sampled_from(["Content-Disposition: attachment\n", "Content-Disposition: inline\n"]))
    return headers.encode() + b"\n" + raw


SUBJECTS = st.one_of(
    TEXT,
    st.sampled_from(
        ["=?utf-8?b?Q2Fmw6k=?=", "=?utf-8?q?Caf=C3=A9?=", "=?bogus?q?x?=", "=?utf-8?b?***?=", "Re: [list] x"]
    ),
    st.binary(max_size=40).map(lambda raw: raw.decode("latin-1")),
)


@st.composite
def emails(draw: st.DrawFn) -> bytes:
    subject = draw(SUBJECTS).replace("\n", " ").replace("\r", " ")
    head = f"From: Ann <ann@example.com>\nSubject: {subject}\nMIME-Version: 1.0\n".encode("utf-8", "surrogateescape")
    return draw(mutated(head + draw(mime_part())))


@FUZZ
@given(data=emails())
# Found by this test: the stdlib decodes a base64 part's raw text with its declared charset, and punycode raised.
@example(
    data=b"From: Ann <ann@example.com>\nSubject: 000\xc2\x80\nMIME-Version: 1.0\n"
    b"Content-Type: text/plain; charset=punycode\nContent-Transfer-Encoding: base64\n\x8a"
)
def test_any_email_gives_one_sound_result(data: bytes) -> None:
    import_bytes(data, ".eml")


@FUZZ
@given(body=MAIL_BODY)
def test_quote_stripping_keeps_only_unquoted_lines_of_the_body_in_order(body: str) -> None:
    lines = [line.strip() for line in body.split("\n")]
    kept = strip_quotes_and_signature(body)
    position = 0
    for line in kept.split("\n") if kept else []:
        assert not re.match(r"^[A-Za-z]{0,4}>", line.strip())
        if line.strip():  # a subsequence of the body's lines
            position = lines.index(line.strip(), position) + 1


# --- Word ---------------------------------------------------------------------------------------------


def _template() -> dict[str, bytes]:
    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("The release slipped a day, sorry; we ship on Thursday.")
    document.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


TEMPLATE = _template()
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
MC = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
W_TAGS = "w:p w:r w:t w:tab w:ptab w:cr w:noBreakHyphen w:tbl w:tr w:tc w:ins w:del w:delText w:sdt w:moveFrom "
W_XML = st.lists(
    st.one_of(
        st.sampled_from((W_TAGS + "mc:AlternateContent mc:Choice mc:Fallback x:y").split()).flatmap(
            lambda tag: st.sampled_from([f"<{tag}>", f"</{tag}>", f"<{tag}/>"])
        ),
        st.sampled_from(['<w:br w:type="page"/>', "<w:br/>", '<w:br w:type="textWrapping"/>', "&amp;", "&bogus;"]),
        st.sampled_from(["<", "]]>", "<!DOCTYPE x [<!ENTITY e 'e'>]>", "&e;", "<?xml version='1.0'?>"]),
        TEXT.map(lambda text: text.replace("<", "&lt;").replace("&", "&amp;")),
    ),
    max_size=60,
).map(lambda parts: f"<w:document {W} {MC}><w:body>{''.join(parts)}</w:body></w:document>")
RELS = st.sampled_from(
    ["word/document.xml", "/word/document.xml", "../../etc/passwd", "missing.xml", "word", "", "word/styles.xml"]
).map(
    lambda target: (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
        f'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        f'Target="{target}"/></Relationships>'
    )
)


@st.composite
def docx_files(draw: st.DrawFn) -> bytes:
    parts = dict(TEMPLATE)
    if draw(st.booleans()):
        parts["word/document.xml"] = draw(W_XML).encode()
    if draw(st.integers(0, 4)) == 0:
        parts["_rels/.rels"] = draw(RELS | TEXT).encode()
    for _ in range(draw(st.integers(0, 2))):
        parts[draw(st.text("abc/._", min_size=1, max_size=12))] = draw(st.binary(max_size=50))
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return draw(mutated(buffer.getvalue()))


@FUZZ
@given(data=docx_files())
def test_any_word_document_gives_one_sound_result(data: bytes) -> None:
    import_bytes(data, ".docx")


# --- anything at all ----------------------------------------------------------------------------------


@FUZZ
@given(data=st.one_of(st.binary(max_size=3000), st.binary(max_size=300).map(lambda raw: b"PK\x03\x04" + raw)))
def test_any_bytes_under_any_suffix_give_one_sound_result(data: bytes) -> None:
    import_bytes(data, ".txt", ".md", ".eml", ".html", ".docx", "")


@FUZZ
@given(text=st.lists(st.one_of(TEXT, st.sampled_from(["\x1b[31m", "\x1b[0m", "\x1b]0;t\x07", "\x1b", "\x07"]))))
def test_any_pasted_text_gives_one_sound_result(text: list[str]) -> None:
    result = import_text("".join(text))
    assert len(result.demonstrations) + len(result.refused) == 1
    assert_sound(result)
