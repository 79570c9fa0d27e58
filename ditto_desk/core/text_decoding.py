"""Guessing how bytes without a BOM or valid UTF-8 encode their text: UTF-16 saved without a BOM, and
legacy single-byte code pages (via charset_normalizer). Each guess returns None when it does not fit;
importers.py turns that into a refusal the user can act on."""

from __future__ import annotations

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
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    text = str(best)
    # charset_normalizer often names another Latin code page (cp1257, cp1250) for Western text that is
    # really cp1252/Latin-1, mangling accents; prefer cp1252 when it reads as ordinary Western text.
    if "cp1252" not in best.could_be_from_charset and best.encoding in _LATIN_CODE_PAGES:
        for match in matches:
            if "cp1252" in match.could_be_from_charset and match.chaos <= best.chaos + 0.1:
                if _uncommon(str(match)) < _uncommon(text):
                    return str(match)
                break
    return text


def _uncommon(text: str) -> int:
    return sum(1 for c in text if not c.isascii() and c not in _COMMON_NON_ASCII)
