"""Benchmark: hostile and pathological files through ``import_paths``, each in a fresh process.

Generates the inputs into a temporary folder (nothing large is committed): the shapes users met (40,000
empty HTML paragraphs, a 140 KB HTML email, a 1 MB nested page, a 3 MB .docx that unpacks to 3 GiB,
2,000 nested MIME parts, invalid UTF-8, ANSI colour codes, a folder linking to /etc/passwd, broken base64)
and other nasty ones: inputs just under each size limit, html.parser's quadratic "<a<a<a", unclosed
comments, entity floods, XML entity bombs, deep nesting, a zip with 100,000 entries, megabyte headers.

Each input is imported in a child process. The table gives its size on disk, the outcome, the wall time
of ``import_paths`` alone (the child imports the importers and the libraries they load lazily first, so
that one-off cost is left out), and the child's peak resident memory: VmHWM from /proc/self/status, the
whole process, interpreter and libraries included (the "baseline" row is that floor). Not ru_maxrss:
Linux carries the parent's peak into a child it forks, and this parent holds the generated inputs.

    python benchmarks/bench_import_adversarial.py [--only NAME ...] [--code DIR] [--timeout S] [--keep DIR]

``--code DIR`` puts DIR first on the child's sys.path, e.g. an unpacked older ditto_desk, to compare.
Targets: every input the size limits admit under 1 s and 200 MB.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ditto_desk.core.importing import docx as docx_text  # noqa: E402
from ditto_desk.core.importing import eml as eml_text  # noqa: E402
from ditto_desk.core.importing import html as html_text  # noqa: E402

TARGET_SECONDS = 1.0
TARGET_MB = 200
MB = 1_000_000
WORDS = (  # noqa: SIM905 - a sentence reads better than a list of words
    "the release slipped a day sorry we will ship on thursday instead and update the board before lunch "
    "please check the numbers again"
).split()

CHILD = r"""
import json, os, sys, time
if sys.argv[2]:
    sys.path.insert(0, sys.argv[2])
from ditto_desk.core.importers import import_paths
for name in ("charset_normalizer", "lxml.etree", "docx", "bs4", "email.parser"):
    try:
        __import__(name)
    except ImportError:
        pass
start = time.perf_counter()
try:
    result = import_paths([sys.argv[1]])
    outcome = [f"imported ({len(d.text.split()):,} words)" for d in result.demonstrations]
    outcome += ["refused: " + r.reason for r in result.refused]
except BaseException as error:  # the benchmark must report what a crash looks like, too
    outcome = [f"RAISED {type(error).__name__}: {str(error)[:80]}"]
seconds = time.perf_counter() - start
try:  # the peak of this process since its exec; ru_maxrss would count the parent's, inherited by the fork
    with open("/proc/self/status") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except OSError:
    import resource
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "outcome": outcome}))
"""


def words(count: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(count))


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


# --- HTML ---------------------------------------------------------------------------------------------


def html_email(path: Path) -> Path:
    """A 140 KB newsletter-style HTML email: nested layout tables, inline styles, a span per phrase."""
    cell = (
        '<tr><td style="padding:4px 12px;font-family:Arial,sans-serif"><p style="margin:0 0 8px 0">'
        + "".join(
            f'<span style="color:#333333;font-size:14px;line-height:20px">{words(2, i)} </span>' for i in range(6)
        )
        + "</p></td></tr>"
    )
    body = "".join(f'<table width="600" cellpadding="0"><tbody>{cell}</tbody></table>' for _ in range(250))
    return write(path, f"<html><head><style>td {{color: red}}</style></head><body>{body}</body></html>")


def just_under_html_elements(path: Path) -> Path:
    count = html_text.MAX_ELEMENTS - 10
    return write(path, "<html><body>" + "<span>a</span>" * count + "</body></html>")


# --- mail ---------------------------------------------------------------------------------------------

MAIL_HEAD = "From: Ann <ann@example.com>\nTo: Bob <bob@example.com>\nSubject: Release\nMIME-Version: 1.0\n"
PLAIN = "Content-Type: text/plain; charset=utf-8\n\n" + words(60) + "\n"


def nested_mime(depth: int, inner: str = PLAIN) -> str:
    opening = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(depth))
    closing = "".join(f"\n--b{i}--\n" for i in reversed(range(depth)))
    return MAIL_HEAD + opening + inner + closing


def nested_with_lines(path: Path) -> Path:
    """As deep as admitted, then an attachment of short lines up to the line limit: the parser's worst case."""
    lines = eml_text.MAX_LINES - 200
    attachment = (
        PLAIN + f"\n--b{eml_text.MAX_CONTAINERS - 1}\nContent-Type: application/octet-stream\n"
        "Content-Transfer-Encoding: base64\n\n" + "QUFB\n" * lines
    )
    return write(path, nested_mime(eml_text.MAX_CONTAINERS, attachment))


def big_attachment(path: Path) -> Path:
    payload = base64.encodebytes(os.urandom(7_300_000)).decode()
    return write(
        path,
        MAIL_HEAD + 'Content-Type: multipart/mixed; boundary="b"\n\n--b\n' + PLAIN + "\n--b\n"
        "Content-Type: application/pdf\nContent-Disposition: attachment; filename=a.pdf\n"
        "Content-Transfer-Encoding: base64\n\n" + payload + "\n--b--\n",
    )


def flat_parts(count: int) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        parts = "".join(f"--b\nContent-Type: text/plain\n\npart {i}\n" for i in range(count))
        return write(path, MAIL_HEAD + 'Content-Type: multipart/mixed; boundary="b"\n\n' + parts + "--b--\n")

    return make


def gmail_inline_html(path: Path) -> Path:
    html = (
        f'<div dir="ltr"><div>{words(20, 2)}</div><div class="gmail_quote"><div class="gmail_attr">On Tue, Mar 4, '
        '2025 at 9:12 AM Bob &lt;bob@example.com&gt; wrote:<br></div><blockquote class="gmail_quote">Can we ship'
        f'?</blockquote><div>{words(30, 3)}</div><blockquote class="gmail_quote">Docs?</blockquote>'
        f"<div>{words(30, 4)}</div></div></div>"
    )
    return write(path, MAIL_HEAD + "Content-Type: text/html; charset=utf-8\n\n" + html + "\n")


# --- Word ---------------------------------------------------------------------------------------------

DOCX_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
)
DOCX_TAIL = "</w:body></w:document>"


def docx(
    path: Path,
    document: bytes | Callable[[zipfile.ZipFile], None],
    extra: Callable[[zipfile.ZipFile], None] | None = None,
) -> Path:
    """A .docx from python-docx's own template, with ``document`` as word/document.xml (or written by it)."""
    import docx as python_docx

    template = path.with_suffix(".template.docx")
    python_docx.Document().save(str(template))
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                out.writestr(info.filename, source.read(info.filename))
        if extra is not None:
            extra(out)
        if callable(document):
            document(out)
        else:
            out.writestr("word/document.xml", document)
    template.unlink()
    return path


def streamed(
    name: str, unit: bytes, total: int, head: bytes = b"", tail: bytes = b""
) -> Callable[[zipfile.ZipFile], None]:
    """Writes ``name`` as ``total`` bytes of ``unit`` repeated, compressed as it goes (a zip bomb)."""

    def write_part(archive: zipfile.ZipFile) -> None:
        chunk = unit * (MB // len(unit))
        with archive.open(name, "w", force_zip64=True) as part:
            part.write(head)
            for _ in range(total // len(chunk)):
                part.write(chunk)
            part.write(tail)

    return write_part


def paragraphs_xml(count: int, text: str = "") -> bytes:
    """Paragraphs with revision ids, as Word writes them (which also keeps them from compressing 1,000 times)."""
    rng = random.Random(count)
    run = f"<w:r><w:t>{text}</w:t></w:r>" if text else ""
    body = "".join(f'<w:p w:rsidR="{rng.getrandbits(32):08X}">{run}</w:p>' for _ in range(count))
    return (DOCX_HEAD + body + DOCX_TAIL).encode()


def docx_at_element_limit(path: Path) -> Path:
    per_paragraph = 3  # w:p, w:r, w:t
    return docx(path, paragraphs_xml(docx_text.MAX_ELEMENTS // per_paragraph - 10, "word"))


def docx_at_size_limit(path: Path) -> Path:
    """A document.xml just under the size cap: long paragraphs of text, few elements."""
    paragraph = f"<w:p><w:r><w:t>{words(1_000)}</w:t></w:r></w:p>"
    count = (docx_text.MAX_DOCUMENT_XML_BYTES - 1_000) // len(paragraph)
    return docx(path, (DOCX_HEAD + paragraph * count + DOCX_TAIL).encode())


def many_entries(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for index in range(100_000):
            archive.writestr(f"{index:x}", b"")
    return path


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + ']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
    "<w:t>&j;</w:t></w:r></w:p></w:body></w:document>"
).encode()


# --- the inputs ---------------------------------------------------------------------------------------

Case = tuple[str, str, Callable[[Path], Path]]  # name (its prefix gives the file type), what it is, generator
BIG = 10 * MB - 100  # just under the size limit of .html, .eml and .docx files (1 MB for plain text)


def cases() -> list[Case]:
    def text(data: bytes | str) -> Callable[[Path], Path]:
        return lambda path: write(path, data)

    def folder_with_link(path: Path) -> Path:
        path.mkdir()
        write(path / "mine.txt", words(40))
        (path / "passwd.txt").symlink_to("/etc/passwd")
        return path

    at_limit = "just under the cap"
    script = f"<p>{words(60)}</p><script>" + "a<b;" * (BIG // 4 - 300) + "</script>"
    quotes = MAIL_HEAD + "Content-Type: text/html\n\n" + f"<p>{words(40)}</p>" + "<blockquote>q" * 100_000
    b64_head = MAIL_HEAD + "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
    cut_base64 = b64_head + base64.b64encode(words(60).encode()).decode()[:-3] + "\n"
    b64_text = b64_head + base64.encodebytes(words(1_200_000).encode()).decode()
    ctype = "MIME-Version: 1.0\nContent-Type: text/plain; " + "a=b; " * 200_000 + "\n\n" + words(60)
    cp1252 = ("<p>Café déjà vu, naïve résumé.</p>" * 300_000).encode("cp1252")[:BIG]
    bad_utf8 = "Café au lait with Zoë, déjà vu. ".encode() * 3 + b"\xff\xfe" + "Grüße aus Köln.".encode()
    ansi = f"\x1b[1;31mError:\x1b[0m {words(30)} \x1b[32mdone\x1b[0m\n" * 3
    bomb = streamed("word/document.xml", b"<w:p/>", 3 * 1024**3, DOCX_HEAD.encode(), DOCX_TAIL.encode())
    deep_xml = (DOCX_HEAD + "<w:sdt>" * 100_000 + DOCX_TAIL).encode()
    empty_paragraphs = paragraphs_xml(500_000)
    return [
        ("baseline", "a normal 60-word text file", text(words(60))),
        # HTML
        ("html-40k-empty-p", "40,000 empty paragraphs (issue: 85 s)", text("<p></p>" * 40_000)),
        ("html-email-140k", "140 KB newsletter-style HTML email", html_email),
        ("html-nested-1mb", "1 MB of nested <div> (issue: minutes)", text("<div>" * 200_000 + "x")),
        ("html-elements-at-limit", f"{html_text.MAX_ELEMENTS - 10:,} <span>s: {at_limit}", just_under_html_elements),
        ("html-10mb-empty-p", "10 MB of <p></p>", text("<p></p>" * (BIG // 7))),
        ("html-10mb-br", "10 MB of <br>", text("<br>" * (BIG // 4))),
        ("html-lt-a-1mb", '"<a" x 500,000: html.parser is quadratic on it', text("<a" * 500_000)),
        ("html-unclosed-comment", "<!-- then 10 MB of text", text("<!--" + "x" * (BIG - 4))),
        ("html-10mb-script", "10 MB <script> and one paragraph", text(script)),
        ("html-10mb-pre", "10 MB of words in <pre>", text("<pre>" + words(1_500_000)[: BIG - 11] + "</pre>")),
        ("html-10mb-entities", "10 MB of &amp;", text("&amp;" * (BIG // 5))),
        ("html-cp1252-10mb", "10 MB of cp1252 HTML (charset detection)", text(cp1252)),
        # mail
        ("eml-gmail-inline-html", "Gmail HTML inline reply (issue: refused)", gmail_inline_html),
        ("eml-nested-2000", "2,000 nested MIME parts (issue: RecursionError)", text(nested_mime(2000))),
        ("eml-nested-lines-at-limit", f"{eml_text.MAX_CONTAINERS} nested parts and {eml_text.MAX_LINES - 200:,} "
         "lines: the most admitted", nested_with_lines),
        ("eml-10mb-attachment", "7 MB PDF attachment (10 MB base64)", big_attachment),
        ("eml-parts-at-limit", "990 parts side by side", flat_parts(990)),
        ("eml-20k-parts", "20,000 parts side by side", flat_parts(20_000)),
        ("eml-10mb-newlines", "10 MB of empty lines", text(MAIL_HEAD + PLAIN + "\n" * (BIG - 500))),
        ("eml-1mb-subject", "a 1 MB Subject (policy.default: 15 s)", text(f"Subject: {'word ' * 200_000}\n{PLAIN}")),
        ("eml-1mb-encoded-words", "1 MB of encoded words in the Subject",
         text(f"Subject: {'=?utf-8?q?a?= ' * 70_000}\n{PLAIN}")),
        ("eml-1mb-content-type", "a 1 MB Content-Type", text(ctype)),
        ("eml-bad-base64", "text body whose base64 is cut short (issue: 'too short')", text(cut_base64)),
        ("eml-7mb-base64-text", "7 MB of text as a base64 body", text(b64_text)),
        ("eml-10mb-html-body", "10 MB of <p></p> as the HTML body", text(MAIL_HEAD + "Content-Type: text/html\n\n"
         + "<p></p>\n" * (BIG // 8 - 100))),
        ("eml-deep-blockquote", "HTML mail, 100,000 nested <blockquote>", text(quotes)),
        ("eml-10mb-one-line", "10 MB body on one line", text(MAIL_HEAD + PLAIN + words(1_500_000)[: BIG - 500])),
        # Word
        ("docx-zip-bomb-3gib", "3 GiB of XML in word/document.xml (issue: 4 GB RAM)", lambda p: docx(p, bomb)),
        ("docx-bomb-in-media", "1 GiB of zeros as an image",
         lambda p: docx(p, paragraphs_xml(3, words(20)), streamed("word/media/image1.png", b"\0", 1024**3))),
        ("docx-500k-empty-p", "500,000 empty paragraphs (python-docx: 5 s)", lambda p: docx(p, empty_paragraphs)),
        ("docx-elements-at-limit", f"{docx_text.MAX_ELEMENTS // 3 - 10:,} one-word paragraphs: {at_limit}",
         docx_at_element_limit),
        ("docx-document-at-size-limit", f"{docx_text.MAX_DOCUMENT_XML_BYTES / MB:g} MB document.xml: {at_limit}",
         docx_at_size_limit),
        ("docx-100k-entries", "a zip of 100,000 empty files", many_entries),
        ("docx-billion-laughs", "XML entity bomb in document.xml", lambda p: docx(p, BILLION_LAUGHS)),
        ("docx-deep-nesting", "100,000 nested elements", lambda p: docx(p, deep_xml)),
        ("docx-not-a-zip", "1 MB of random bytes named .docx", text(random.Random(3).randbytes(MB))),
        # plain text
        ("txt-random-1mb", "1 MB of random bytes", text(random.Random(4).randbytes(MB - 1))),
        ("txt-cp1252-1mb", "1 MB of cp1252 text (charset detection)",
         text(("Café déjà vu, naïve résumé. " * 40_000).encode("cp1252")[: MB - 1])),
        ("txt-invalid-utf8", "UTF-8 with two broken bytes (issue: garbled)", text(bad_utf8)),
        ("txt-ansi", "coloured terminal output (issue: 'binary')", text(ansi)),
        ("txt-ansi-1mb", "1 MB of escape codes", text("\x1b[31m" * (MB // 5 - 1))),
        ("txt-utf16-1mb", "1 MB of UTF-16 without a BOM", text(words(100_000)[: MB // 2 - 1].encode("utf-16-le"))),
        ("txt-1mb-newlines", "1 MB of line breaks", text("\n" * (MB - 1))),
        ("txt-1mb-controls", "1 MB of control characters", text("\x01\x02 ab " * (MB // 6 - 1))),
        ("txt-1mb-combining", "1 MB of combining accents", text("a" + "\u0301" * (MB // 2 - 1))),
        ("folder-link-outside", "a folder with a link to /etc/passwd (issue: imported it)", folder_with_link),
    ]  # fmt: skip


def file_name(case: str) -> str:
    kind = case.split("-")[0]
    return {"baseline": "a.txt", "folder": "folder"}.get(kind, f"a.{kind}")


# --- running ------------------------------------------------------------------------------------------


def run_child(path: Path, code: str, timeout: float) -> tuple[float | None, float | None, list[str]]:
    """Imports ``path`` in a fresh process: (seconds or None, peak RSS in MB or None, outcome lines)."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(path), code], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None, None, [f"did not finish within {timeout:g} s"]
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])
        return report["seconds"], report["peak_mb"], report["outcome"]
    except (IndexError, ValueError, KeyError):
        tail = " ".join((done.stdout + done.stderr).strip().splitlines()[-3:])[:150]
        return None, None, [f"child failed (exit {done.returncode}): {tail}"]


def size_of(path: Path) -> str:
    size = path.stat().st_size if path.is_file() else sum(p.lstat().st_size for p in path.iterdir())
    return f"{size / MB:.2f} MB" if size >= 10_000 else f"{size:,} B"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="names of the inputs to run (default: all)")
    parser.add_argument("--code", default="", help="a folder to put first on the child's sys.path")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a child is stopped")
    parser.add_argument("--keep", help="generate the inputs into this folder and keep them")
    args = parser.parse_args()

    selected = [case for case in cases() if not args.only or case[0] in args.only]
    with tempfile.TemporaryDirectory(prefix="ditto-adversarial-") as scratch:
        root = Path(args.keep or scratch)
        root.mkdir(parents=True, exist_ok=True)
        print("| input | what it is | size | outcome | time | peak RSS |")
        print("|---|---|---:|---|---:|---:|")
        worst_time, worst_rss = (0.0, ""), (0.0, "")
        for name, what, generate in selected:
            folder = root / name
            folder.mkdir(exist_ok=True)
            path = generate(folder / file_name(name))
            seconds, rss, outcome = run_child(path, args.code, args.timeout)
            shown = "; ".join(line if len(line) <= 140 else line[:139] + "…" for line in outcome).replace("|", "\\|")
            took = "—" if seconds is None else f"{seconds:.3f} s"
            peak = "—" if rss is None else f"{rss:.0f} MB"
            print(f"| {name} | {what} | {size_of(path)} | {shown} | {took} | {peak} |", flush=True)
            worst_time = max(worst_time, (float("inf") if seconds is None else seconds, name))
            worst_rss = max(worst_rss, (float("inf") if rss is None else rss, name))
            if not args.keep:
                shutil.rmtree(folder)
        print(
            f"\nWorst time: {worst_time[0]:.3f} s ({worst_time[1]}), target {TARGET_SECONDS:g} s. "
            f"Worst peak RSS: {worst_rss[0]:.0f} MB ({worst_rss[1]}), target {TARGET_MB} MB."
        )


if __name__ == "__main__":
    main()
