"""How long a draft may run: between a floor and a cap taken from the author's own texts.

A fixed cap cuts the drafts of an author who writes long emails mid-sentence and lets a model ramble far
past where a brief author would stop. The cap is taken from the profile's texts instead: half as long
again as the longest of them, so that a draft of the author's usual length ends on its own, and one that
runs past anything the author wrote is stopped. The floor, half the shortest text (or of the cap), keeps a
fine-tuned model, whose end-of-text token comes early once nothing penalises it, from stopping after a
sentence or two (on the shipped corpus DITTO's drafts then ran 62 tokens on average, 26 for one author,
against the authors' 146-172: benchmarks/eval_quick.md). Past the author's median length the end of text is
eased in, a little more with every token (transformers' ``exponential_decay_length_penalty``): a draft that
goes on past where the author usually stops ends at the next place that reads like an end, rather than
rambling on to the cap (on real emails 12-30 % of DITTO's drafts and 28-30 % of SFT's did:
benchmarks/eval_quick.md).

Compose uses all three unless the user sets a length (then the cap is theirs); the evaluation bounds every
method's drafts with them, so that "ended on its own" means what a user sees.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MIN_NEW_TOKENS, MAX_NEW_TOKENS = 16, 1024  # the bounds of any cap
DEFAULT_NEW_TOKENS = 200  # a profile without texts
ROOM = 1.5  # the cap, as a multiple of the author's longest text
FLOOR = 0.5  # the floor, as a multiple of the author's shortest text
# Past the ease point the end-of-text logit is raised by |logit| x (EASE_RATE ** tokens past it - 1). A learned
# model's end-of-text logit stands near 15 after a sentence and near 8 inside one, its top token near 26
# (real emails, DITTO): at 1.01 a sentence's end becomes a likely end some 40-70 tokens past the ease point,
# a place inside a sentence only past about 110.
EASE_RATE = 1.01


@dataclass(frozen=True)
class DraftLength:
    floor: int  # no end of text before this many new tokens
    cap: int  # at most this many new tokens
    ease_from: int | None = None  # the end of text made likelier past this many new tokens

    def capped_at(self, tokens: int) -> DraftLength:
        """The bounds under a length the user chose: that cap, the same floor, and no ease towards the author's
        usual length (someone who asks for 600 tokens from an author of 200-token emails wants 600)."""
        return DraftLength(min(self.floor, tokens), tokens)

    def ending_arguments(self) -> dict[str, Any]:
        """``generate`` arguments for where the end of text may come (the cap is passed on its own)."""
        ending: dict[str, Any] = {"min_new_tokens": min(self.floor, self.cap)}
        if self.ease_from is not None and self.ease_from < self.cap:
            ending["exponential_decay_length_penalty"] = (self.ease_from, EASE_RATE)
        return ending


def draft_length(text_tokens: Sequence[int]) -> DraftLength:
    """The bounds of a draft, from the token counts of the author's texts."""
    if not text_tokens:
        return DraftLength(0, DEFAULT_NEW_TOKENS)
    cap = max(MIN_NEW_TOKENS, min(MAX_NEW_TOKENS, round(ROOM * max(text_tokens))))
    return DraftLength(int(FLOOR * min(cap, min(text_tokens))), cap, round(statistics.median(text_tokens)))


def draft_length_for(tokenizer: Any, texts: Sequence[str]) -> DraftLength:
    """``draft_length`` of the texts as ``tokenizer`` counts them."""
    return draft_length([len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts])
