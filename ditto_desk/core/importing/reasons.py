"""The exception an importer raises to refuse one file, and the refusal sentences several importers share.

Every reason is shown to the user as is: it says what happened and what to do, in plain words.
"""

from __future__ import annotations

SUPPORTED = ".txt, .md, .eml, .html or .docx"
BINARY = f"looks binary (not text); use {SUPPORTED} files"
UNDECODABLE = "could not work out the text encoding; save the file as UTF-8 and try again"


def too_large(size: int, limit: int) -> str:
    shown = f"{size / 1_000_000:.1f} MB"
    if shown == f"{limit / 1_000_000:.1f} MB":  # "1.0 MB, the limit is 1 MB" would read as a bug
        shown = f"{size:,} bytes"
    return f"too large: {shown}, the limit is {limit / 1_000_000:g} MB — paste an excerpt instead"
