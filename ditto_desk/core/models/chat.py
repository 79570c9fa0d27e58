"""Turning (request, response) into token ids, one way for every phase.

SFT, the reference log-probs, DPO and evaluation all score exactly these ids, so a response is the
same token sequence wherever it is used. The response always ends with EOS: the model must learn
where the user's text stops (the reference code lost EOS by padding with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Encoded:
    prompt_ids: tuple[int, ...]
    response_ids: tuple[int, ...]

    @property
    def length(self) -> int:
        return len(self.prompt_ids) + len(self.response_ids)


def end_answers_where_the_chat_format_does(tokenizer: Any) -> None:
    """Make EOS the token that ends an answer in the model's chat format, where the two differ.

    Training ends every response with EOS and generation stops at it, so EOS must be what the chat template
    writes after an assistant message: Gemma's ``<end_of_turn>`` (its EOS, ``<eos>``, never comes in a chat:
    drafts would run on into an invented next turn); ChatML's ``<|im_end|>`` and Llama 3's ``<|eot_id|>``
    are their models' EOS already.
    """
    marker = "q7Zx"
    conversation = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": marker}]
    try:
        text = tokenizer.apply_chat_template(conversation, tokenize=False)
    except Exception:  # a template that refuses this conversation: keep the tokenizer's own EOS
        return
    after = text.split(marker, 1)[1] if marker in text else ""
    ids = tokenizer(after, add_special_tokens=False)["input_ids"][:1]
    # A control token of the vocabulary (GGUF conversions do not always mark Gemma's as special), not text.
    control = set(tokenizer.all_special_ids) | set(tokenizer.added_tokens_decoder)
    if ids and ids[0] in control and ids[0] != tokenizer.eos_token_id:
        tokenizer.eos_token = tokenizer.convert_ids_to_tokens(ids[0])


def encode_chat(tokenizer: Any, messages: list[dict[str, str]]) -> tuple[int, ...]:
    """A conversation in the model's chat template, ending where the assistant's answer begins.

    ``enable_thinking=False``: models that think before answering (Qwen3) write the answer at once, as the
    user's own texts do; templates without the switch ignore it.
    """
    ids = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, tokenize=True, return_dict=True, enable_thinking=False
    )["input_ids"]
    return tuple(int(i) for i in ids)


def encode_prompt(tokenizer: Any, request: str) -> tuple[int, ...]:
    """The chat-formatted request, ending where the assistant's answer begins."""
    return encode_chat(tokenizer, [{"role": "user", "content": request}])


def encode_response(tokenizer: Any, text: str, max_tokens: int | None = None) -> tuple[int, ...]:
    """The response's tokens followed by EOS; a response cut at ``max_tokens`` loses EOS, as it should."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return tuple(ids if max_tokens is None else ids[:max_tokens])


def trim_generated(ids: list[int], eos_id: int, pad_id: int | None = None) -> tuple[tuple[int, ...], bool]:
    """Cut generated ids after the first EOS (kept). Returns (ids, cut) where cut means no EOS was reached."""
    for position, token in enumerate(ids):
        if token == eos_id:
            return tuple(ids[: position + 1]), False
    if pad_id is not None and pad_id != eos_id:
        ids = [t for t in ids if t != pad_id]
    return tuple(ids), True
