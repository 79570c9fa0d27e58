"""Long texts become training examples that fit, without losing their shape.

A real email runs to 90-2,200 tokens; training on all of it at once is slow and memory-hungry on a CPU,
and cutting it at ``max_length`` loses its ending and its EOS, so the model never sees where such a
text stops. Instead a text is split at paragraph boundaries (sentence ends inside a paragraph that is
too long by itself) into segments of at most ``segment_tokens`` tokens. The first segment answers the
text's own request; each later one answers the same request plus the words it continues from, so that
it is learnt in context. Only the last segment ends with EOS: that is the text's true end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ditto_desk.core.models.chat import Encoded, encode_prompt, encode_response

# Capturing patterns: the separators are kept, so the pieces join back into the text exactly.
_PARAGRAPH_BREAK = re.compile(r"(\n[ \t]*\n)")
_SENTENCE_BREAK = re.compile(r"((?<=[.!?])\s+)")
_WORD_BREAK = re.compile(r"(\s+)")
# The continuation request quotes at most this many tokens of what came before the segment (about 25
# words of ordinary prose)...
CONTEXT_TOKENS = 32
# ...which, with its wording, makes its prompt at most this many tokens longer than the text's own request.
_CONTINUATION_OVERHEAD = CONTEXT_TOKENS + 24
# A text up to this much longer than a segment stays whole (when the training window allows): a 200-token
# text is better learnt whole than as two halves.
WHOLE_SLACK = 1.25


@dataclass(frozen=True)
class Example:
    """One training example: a segment of one demonstration (``demo_index``), encoded for the model."""

    demo_index: int
    part: int  # 0 for the first segment of its text
    final: bool  # the text's last segment: it ends with EOS
    encoded: Encoded

    @property
    def prompt_ids(self) -> tuple[int, ...]:
        return self.encoded.prompt_ids

    @property
    def response_ids(self) -> tuple[int, ...]:
        return self.encoded.response_ids


def continuation_request(tokenizer: Any, request: str, before: str) -> str:
    """The request of a later segment: the text's own request, and the last words the segment continues."""
    ids = tokenizer(before.strip(), add_special_tokens=False)["input_ids"]
    tail = tokenizer.decode(ids[-CONTEXT_TOKENS:]).strip()
    if len(ids) > CONTEXT_TOKENS and " " in tail:
        tail = tail.split(" ", 1)[1]  # start on a whole word
    return f'{request}\n\n(Continue the text from: "…{tail}")'


def split_text(tokenizer: Any, text: str, segment_tokens: int) -> list[str]:
    """``text`` in consecutive pieces of about equal size, as few as pieces of at most ``segment_tokens``
    tokens need, cut at paragraph breaks, else at sentence ends, else between words. Joined back together
    the pieces give the text exactly.

    Equal pieces rather than full ones and a tail: a 200-token text cut at 192 left a long part that never ends
    and a tail of a few tokens (on the shipped corpus, DITTO's lead over SFT went with it).
    """

    def size(piece: str) -> int:
        return len(tokenizer(piece, add_special_tokens=False)["input_ids"])

    total = size(text)
    if total <= segment_tokens:
        return [text]
    per_piece = -(-total // -(-total // segment_tokens))  # total / the number of pieces, rounded up
    # Paragraphs keep their trailing blank line; a paragraph too long alone falls back to sentences, then words.
    units: list[str] = []
    for paragraph in _with_separators(_PARAGRAPH_BREAK, text):
        if size(paragraph) <= segment_tokens:
            units.append(paragraph)
            continue
        for sentence in _with_separators(_SENTENCE_BREAK, paragraph):
            if size(sentence) <= segment_tokens:
                units.append(sentence)
            else:
                units += _with_separators(_WORD_BREAK, sentence)
    pieces: list[str] = []
    current, current_size = "", 0
    for unit in units:
        unit_size = size(unit)
        if current and (current_size >= per_piece or current_size + unit_size > segment_tokens):
            pieces.append(current)
            current, current_size = "", 0
        current += unit
        current_size += unit_size
    if current:
        pieces.append(current)
    return pieces


def _with_separators(pattern: re.Pattern[str], text: str) -> list[str]:
    """Split ``text`` by a capturing ``pattern``, each separator kept at the end of the piece before it."""
    parts = pattern.split(text)
    pieces = ["".join(parts[i : i + 2]) for i in range(0, len(parts), 2)]
    return [p for p in pieces if p]


def encode_demonstrations(
    tokenizer: Any, requests: Sequence[str], texts: Sequence[str], segment_tokens: int, max_length: int
) -> list[Example]:
    """Every demonstration as one or more examples; a prompt + response never exceeds ``max_length`` tokens."""
    examples: list[Example] = []
    for demo_index, (request, text) in enumerate(zip(requests, texts, strict=True)):
        text = text.strip()
        own_prompt = len(encode_prompt(tokenizer, request))
        # Whole if it fits the window and is not much longer than a segment (EOS needs one token of the window).
        whole = min(round(WHOLE_SLACK * segment_tokens), max_length - own_prompt - 1)
        if len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= whole:
            pieces = [text]
        else:  # pieces small enough that even a continuation's longer prompt leaves them whole in the window
            room = max_length - own_prompt - _CONTINUATION_OVERHEAD
            pieces = split_text(tokenizer, text, max(16, min(segment_tokens, room)))
        for part, piece in enumerate(pieces):
            last = part == len(pieces) - 1
            prompt_text = request if part == 0 else continuation_request(tokenizer, request, pieces[part - 1])
            prompt = encode_prompt(tokenizer, prompt_text)
            room = max(max_length - len(prompt), 1)
            # Leading/trailing blanks of a piece are the separators between pieces, not text to learn.
            response = encode_response(tokenizer, piece.strip(), room)
            if not last and response[-1:] == (tokenizer.eos_token_id,):
                response = response[:-1]  # the text goes on: this is not where it stops
            examples.append(Example(demo_index, part, last, Encoded(prompt, response)))
    return examples
