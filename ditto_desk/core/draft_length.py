"""How long a draft may run before it is cut: room for a text as long as the author's own.

A fixed cap cuts the drafts of an author who writes long emails mid-sentence and lets a model ramble far
past where a brief author would stop. The cap is taken from the profile's texts instead: half as long
again as the longest of them, so that a draft of the author's usual length always ends on its own, and
one that runs past anything the author wrote is stopped. Compose uses it unless the user sets a length,
and the evaluation caps every method's drafts with it, so that "ended on its own" means what a user sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MIN_NEW_TOKENS, MAX_NEW_TOKENS = 16, 1024
DEFAULT_NEW_TOKENS = 200  # a profile without texts
ROOM = 1.5  # the cap, as a multiple of the author's longest text


def draft_token_cap(text_tokens: Sequence[int]) -> int:
    """The new-token cap for a draft, from the token counts of the author's texts."""
    if not text_tokens:
        return DEFAULT_NEW_TOKENS
    return max(MIN_NEW_TOKENS, min(MAX_NEW_TOKENS, round(ROOM * max(text_tokens))))


def draft_token_cap_for(tokenizer: Any, texts: Sequence[str]) -> int:
    """``draft_token_cap`` of the texts as ``tokenizer`` counts them."""
    return draft_token_cap([len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts])
