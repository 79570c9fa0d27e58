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
