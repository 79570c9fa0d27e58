"""The four methods under test, on one model: zero-shot and few-shot use the base model (adapters
off), SFT the frozen reference adapter and DITTO the policy (training/adapters.py).

Decoding is decided once for all methods: the 135M model loops without a repetition penalty, and loops make
every method look alike to the judge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from ditto_desk.core.models.chat import Encoded, encode_chat, encode_prompt, encode_response
from ditto_desk.core.models.scoring import response_logprobs
from ditto_desk.core.progress import CancelToken
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.texts.replies import demonstration_request
from ditto_desk.core.training.adapters import POLICY_ADAPTER, REFERENCE_ADAPTER
from ditto_desk.core.training.sampling import draw_samples
from ditto_desk.core.writing.length import DraftLength, draft_length

METHODS: tuple[str, ...] = ("zero-shot", "few-shot", "sft", "ditto")
TRAINED = frozenset({"sft", "ditto"})
# Demonstrations shrink until the few-shot prompt fits this many tokens. SmolLM2 has 8192 positions,
# but on the CPU every prompt token costs time on every generated token: with 8 rows and a 1,200-token
# prompt one NF4 decoding step took 1.5 s against 0.19 s with a 60-token one (2 shared cores).
FEW_SHOT_BUDGET = 800
_MIN_DEMO_TOKENS = 48


@dataclass(frozen=True)
class Decoding:
    temperature: float = 0.7
    top_p: float = 0.9
    repetition_penalty: float = 1.15
    # A draft is bounded as Compose bounds it, from the author's demonstrations (writing/length.py), and
    # capped at this many tokens if less. (The cap was 1.2 x the held-out text: a draft of the author's
    # usual length was cut whenever that one text was short, which no user meets.)
    max_new_tokens: int | None = None
    batch_size: int = 8  # sequences generated together
    # The learned update's scale for the trained methods, as Compose's Style control sets it (1 = as learned).
    style_strength: float = 1.0

    def length(self, demonstration_tokens: Sequence[int]) -> DraftLength:
        bounds = draft_length(demonstration_tokens)
        return bounds if self.max_new_tokens is None else bounds.capped_at(min(bounds.cap, self.max_new_tokens))

    def to_json(self, trained: bool = True) -> dict[str, Any]:
        """What a result was drawn with. The style strength is left out where it changes nothing (the untrained
        methods, and 1), so that results drawn before it existed still match."""
        data = asdict(self)
        if not trained or self.style_strength == 1.0:
            del data["style_strength"]
        return data


@contextmanager
def method_model(model: Any, method: str) -> Iterator[Any]:
    """The model as ``method`` sees it: adapters off for the untrained methods, else the right adapter."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    model.eval()
    adapters = getattr(model, "peft_config", None)
    if method not in TRAINED:
        if adapters is None:
            yield model
        else:
            with model.disable_adapter():
                yield model
        return
    if adapters is None:
        raise ValueError(f"{method} needs a trained model")
    # With dpo_steps=0 there is no DPO reference: the only adapter is the SFT one.
    wanted = REFERENCE_ADAPTER if method == "sft" and REFERENCE_ADAPTER in adapters else POLICY_ADAPTER
    previous = model.active_adapter
    model.set_adapter(wanted)
    try:
        yield model
    finally:
        model.set_adapter(previous)


def few_shot_prompt(
    tokenizer: Any, demonstrations: Sequence[Demonstration], request: str, budget: int = FEW_SHOT_BUDGET
) -> tuple[int, ...]:
    """The demonstrations as earlier chat turns (their request, with the message a reply answers -> the author's
    text), then the request.

    Texts are cut (whole tokens) until the prompt fits ``budget``; if even short ones do not fit,
    the last demonstrations are dropped. Zero demonstrations is the plain prompt.
    """
    demos = list(demonstrations)
    texts = [tokenizer(d.text, add_special_tokens=False)["input_ids"] for d in demos]
    per_demo = max((len(t) for t in texts), default=0)
    while True:
        messages: list[dict[str, str]] = []
        for demo, ids in zip(demos, texts, strict=False):
            cut = ids[:per_demo]
            messages.append({"role": "user", "content": demonstration_request(tokenizer, demo)})
            messages.append(
                {"role": "assistant", "content": tokenizer.decode(cut) + (" …" if len(cut) < len(ids) else "")}
            )
        messages.append({"role": "user", "content": request})
        ids = encode_chat(tokenizer, messages)
        if len(ids) <= budget or not demos:
            return ids
        if per_demo > _MIN_DEMO_TOKENS:
            per_demo = max(_MIN_DEMO_TOKENS, int(per_demo * 0.85))
        else:
            demos, texts = demos[:-1], texts[:-1]
            per_demo = max((len(t) for t in texts), default=0)


def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Sequence[int]],
    length: DraftLength,
    n_samples: int,
    decoding: Decoding,
    seed: int,
    on_batch: Callable[[int, int], None] | None = None,
    cancel: CancelToken | None = None,
) -> tuple[list[list[str]], list[list[bool]], list[list[int]]]:
    """``n_samples`` texts per prompt, sampled with fixed seeds; whether each ended on its own (EOS) rather
    than at its cap; and how many tokens each ran to."""
    samples = draw_samples(
        model,
        tokenizer,
        prompts,
        n_samples,
        length.cap,
        decoding.temperature,
        decoding.batch_size,
        0,
        cancel,
        on_batch,
        seed=seed,
        top_p=decoding.top_p,
        repetition_penalty=decoding.repetition_penalty,
        **length.ending_arguments(),
    )
    texts = [tokenizer.decode(s.ids, skip_special_tokens=True).strip() for s in samples]
    ended = [not s.cut for s in samples]
    tokens = [len(s.ids) for s in samples]

    def per_prompt(values: list[Any]) -> list[list[Any]]:
        return [values[i : i + n_samples] for i in range(0, len(values), n_samples)]

    return per_prompt(texts), per_prompt(ended), per_prompt(tokens)


def reference_logliks(
    model: Any, tokenizer: Any, prompts: Sequence[Sequence[int]], texts: Sequence[str]
) -> list[tuple[float, int]]:
    """(summed log-prob, tokens) of each text after its prompt, EOS included, as in training: the held-out
    texts under each method's model, and each draft's fluency under the base model."""
    examples = [Encoded(tuple(p), encode_response(tokenizer, t)) for p, t in zip(prompts, texts, strict=True)]
    return response_logprobs(model, examples, tokenizer.pad_token_id)


def plain_prompt(tokenizer: Any, request: str) -> tuple[int, ...]:
    return encode_prompt(tokenizer, request)
