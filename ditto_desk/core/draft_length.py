"""How long a draft may run: between a floor and a cap taken from the author's own texts.

A fixed cap cuts the drafts of an author who writes long emails mid-sentence and lets a model ramble far
past where a brief author would stop. The cap is taken from the profile's texts instead: half as long
again as the longest of them, so that a draft of the author's usual length ends on its own, and one that
runs past anything the author wrote is stopped. The floor, half the shortest text (or of the cap), keeps a
fine-tuned model, whose end-of-text token comes early once nothing penalises it, from stopping after a
sentence or two (on the shipped corpus DITTO's drafts then ran 62 tokens on average, 26 for one author,
against the authors' 146-172: benchmarks/eval_quick.md).

Compose uses both unless the user sets a length; the evaluation bounds every method's drafts with them, so
that "ended on its own" means what a user sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MIN_NEW_TOKENS, MAX_NEW_TOKENS = 16, 1024  # the bounds of any cap
DEFAULT_NEW_TOKENS = 200  # a profile without texts
ROOM = 1.5  # the cap, as a multiple of the author's longest text
FLOOR = 0.5  # the floor, as a multiple of the author's shortest text


@dataclass(frozen=True)
class DraftLength:
    floor: int  # no end of text before this many new tokens
    cap: int  # at most this many new tokens

    def capped_at(self, tokens: int) -> DraftLength:
        """The same bounds under a lower cap (a length the user chose)."""
        return DraftLength(min(self.floor, tokens), tokens)


def draft_length(text_tokens: Sequence[int]) -> DraftLength:
    """The bounds of a draft, from the token counts of the author's texts."""
    if not text_tokens:
        return DraftLength(0, DEFAULT_NEW_TOKENS)
    cap = max(MIN_NEW_TOKENS, min(MAX_NEW_TOKENS, round(ROOM * max(text_tokens))))
    return DraftLength(int(FLOOR * min(cap, min(text_tokens))), cap)


def draft_length_for(tokenizer: Any, texts: Sequence[str]) -> DraftLength:
    """``draft_length`` of the texts as ``tokenizer`` counts them."""
    return draft_length([len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts])
