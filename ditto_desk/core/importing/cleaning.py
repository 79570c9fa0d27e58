"""Cleaning extracted text before it becomes a demonstration: terminal colour codes and stray control
characters out, and the share of control characters that marks "text" as binary data.

Regular expressions rather than per-character loops: a file's text runs to millions of characters, and
these run before the length check can refuse it.
"""

from __future__ import annotations

import re

# ANSI/VT escape sequences, as terminals and coloured log output write them (ECMA-48): CSI ("ESC [ 1;31 m"),
# OSC ("ESC ] ... BEL" or "ESC ] ... ESC \"), and the two-character ones ("ESC ( B", "ESC 7").
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]*[0-~]?)")
# Control characters (Unicode category Cc: U+0000-001F, U+007F-009F); counted ones leave out the
# whitespace a text may hold (tab, line feed, vertical tab, form feed), dropped ones only tab and line feed.
_COUNTED_CONTROLS = re.compile("[\x00-\x08\x0d-\x1f\x7f-\x9f]")
_DROPPED_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Share of control characters above which decoded "text" is taken for binary data.
MAX_CONTROL_SHARE = 0.01


def strip_terminal_codes(text: str) -> str:
    """The text without the colour and cursor codes a terminal or a log file wraps around words."""
    return _ESCAPE_SEQUENCE.sub("", text) if "\x1b" in text else text


def looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    return _COUNTED_CONTROLS.subn("", text)[1] > MAX_CONTROL_SHARE * len(text)


def drop_controls(text: str) -> str:
    """The text without control characters other than tab and line feed: noise in training data."""
    return _DROPPED_CONTROLS.sub("", text)


# A static-site post's front matter: YAML between "---" lines or TOML between "+++" lines, first in the file, with
# at least one "key: value" or "key = value" line (so a text that merely opens with a rule is left alone).
_FRONT_MATTER = re.compile(r"\A(---|\+\+\+)[ \t]*\n((?:.*\n)*?)\1[ \t]*(?:\n|\Z)")
_FRONT_MATTER_FIELD = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*[:=]\s*(.*?)\s*$", re.MULTILINE)


def split_front_matter(text: str) -> tuple[str, str | None]:
    """The text without its front matter, and the post's title from it (None without one)."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return text, None
    fields = {key.lower(): value for key, value in _FRONT_MATTER_FIELD.findall(match.group(2))}
    if not fields:
        return text, None
    title = fields.get("title", "").strip().strip("\"'").strip()
    return text[match.end() :], title or None
