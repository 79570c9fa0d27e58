"""How many words a text holds, in any script.

Counting by spaces calls a 200-character Japanese or Chinese email one word: those scripts (and Thai, Lao, Khmer,
Burmese) do not put spaces between words. There, every two characters count as a word, about the length of a word
in Chinese and Japanese; the rest of the text is counted by spaces.
"""

from __future__ import annotations

import re

# Han, Hiragana, Katakana, Hangul syllables are spaced in Korean and not counted here; Thai, Lao, Myanmar, Khmer.
_UNSPACED = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff]"
)


def count_words(text: str) -> int:
    unspaced = len(_UNSPACED.findall(text))
    if not unspaced:
        return len(text.split())
    spaced = len(_UNSPACED.sub(" ", text).split())
    return spaced + (unspaced + 1) // 2
