"""Bytes to text: BOMs, UTF-8, UTF-16 saved without a BOM, and legacy single-byte code pages (via
charset_normalizer). Bytes that fit none of them are refused with a reason the user can act on."""

from __future__ import annotations

import codecs
import re

from ditto_desk.core.errors import Refused
from ditto_desk.core.importing.reasons import BINARY, UNDECODABLE

# Single-byte code pages for Latin scripts, as charset_normalizer names them: the ones it mistakes
# Western (cp1252) text for.
_LATIN_CODE_PAGES = frozenset(
    (  # noqa: SIM905
        "cp437 cp775 cp850 cp852 cp857 cp858 cp860 cp861 cp863 cp865 cp1250 cp1254 cp1257 cp1258 hp_roman8 "
        "iso8859_2 iso8859_3 iso8859_4 iso8859_9 iso8859_10 iso8859_13 iso8859_14 iso8859_15 iso8859_16 "
        "latin_1 mac_iceland mac_latin2 mac_roman mac_turkish"
    ).split()
)
# Western letters and typography: text decoded with the right Latin code page is made of these.
_COMMON_NON_ASCII = frozenset(
    "àáâãäåæçèéêëìíîïñòóôõöøùúûüÿßœšžÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜŸŒŠŽ"
    "€£¥¢°§©®™«»¡¿·×÷±½¼¾\u00a0\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2020\u2022\u2026"
)
# Counted with regular expressions, not per-character Python loops: files run to megabytes.
_UNCOMMON = re.compile("[^\x00-\x7f" + re.escape("".join(sorted(_COMMON_NON_ASCII))) + "]")
# Legacy encodings are guessed from the start of a large file: charset_normalizer tries a dozen code pages
# on all it is given (0.2 s and 100 MB for 10 MB), and the first 256 KB tell as much.
_GUESS_FROM_BYTES = 256 * 1024


def decode_text(
    data: bytes,
    what: str = "this file",
    advice: str = "fix that text in a text editor, save it as UTF-8 and try again",
) -> str:
    """Bytes to text: BOMs first, then UTF-8, then charset detection; refused if none fits.

    UTF-8 with a few damaged bytes is refused rather than guessed at: read as a legacy code page it came
    out with every accented letter garbled ("CafÃ©"), and nothing told the user.
    """
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts with UTF-16 LE's
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as error:
                raise Refused(UNDECODABLE) from error
    if b"\x00" in data:
        # Text never holds NUL bytes, except UTF-16 saved without a BOM.
        text = utf16_without_bom(data)
        if text is None:
            raise Refused(BINARY)
        return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        first_bad = error.start
    damage = damaged_utf8(data, first_bad)
    if damage is not None:
        bad, line = damage
        raise Refused(
            f"{what} is not valid UTF-8: {bad:,} damaged byte{'' if bad == 1 else 's'} (the first on line {line:,}) "
            f"would come out as garbled letters; {advice}"
        )
    text = legacy_decode(data)
    if text is None:
        raise Refused(UNDECODABLE)
    return text


def damaged_utf8(data: bytes, first_bad: int) -> tuple[int, int] | None:
    """(damaged bytes, line of the first) when ``data``, not valid UTF-8 from byte ``first_bad`` on, is UTF-8
    with some bytes broken rather than another encoding: it holds at least as many well-formed UTF-8 letters
    beyond ASCII as bytes that are not UTF-8. Text in a legacy code page has the opposite: its accented
    letters are nearly all invalid as UTF-8. (Counted with codecs, in C: files run to megabytes.)"""
    text = data.decode("utf-8", "ignore")
    bad = len(data) - len(text.encode("utf-8"))
    letters = len(text) - len(text.encode("ascii", "ignore"))
    if letters < bad:
        return None
    return bad, data.count(b"\n", 0, first_bad) + 1


def utf16_without_bom(data: bytes) -> str | None:
    if len(data) % 2:
        return None
    half = len(data) // 2
    even_nuls, odd_nuls = data[0::2].count(0), data[1::2].count(0)
    # Mostly-Latin UTF-16 has a NUL in (nearly) every high byte and almost none in the low bytes.
    for encoding, high, low in (("utf-16-le", odd_nuls, even_nuls), ("utf-16-be", even_nuls, odd_nuls)):
        if high >= 0.5 * half and low <= 0.01 * half:
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                return None
    return None


def legacy_decode(data: bytes) -> str | None:
    sample = data
    if len(data) > _GUESS_FROM_BYTES:
        line_end = data.rfind(b"\n", 0, _GUESS_FROM_BYTES)  # not in the middle of a multi-byte character
        sample = data[: line_end + 1 if line_end > _GUESS_FROM_BYTES // 2 else _GUESS_FROM_BYTES]
    encoding = _legacy_encoding(sample)
    if encoding is None:
        return None
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _legacy_encoding(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    # charset_normalizer often names another Latin code page (cp1257, cp1250) for Western text that is
    # really cp1252/Latin-1, mangling accents; prefer cp1252 when it reads as ordinary Western text.
    if "cp1252" not in best.could_be_from_charset and best.encoding in _LATIN_CODE_PAGES:
        for match in matches:
            if "cp1252" in match.could_be_from_charset and match.chaos <= best.chaos + 0.1:
                if _uncommon(str(match)) < _uncommon(str(best)):
                    return match.encoding
                break
    return best.encoding


def _uncommon(text: str) -> int:
    return _UNCOMMON.subn("", text)[1]
