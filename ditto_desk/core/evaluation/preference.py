"""What DPO added to SFT, on texts it never saw: does DITTO prefer the author's held-out text to SFT's own
draft for the same request, where SFT (its reference) is indifferent by definition?

The measure is DPO's implicit reward, beta * (log pi_ditto - log pi_sft), on held-out pairs: (the author's
real text) against (a draft the SFT model writes for that text's request, sampled as DITTO samples its
rejected texts). SFT scores every pair 0; a DPO phase that learnt nothing scores 0 too, one that learnt
the wrong way scores below 0. It is not the training loss: neither the requests nor the texts were trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ditto_desk.core.evaluation.methods import method_model
from ditto_desk.core.models.chat import Encoded, encode_prompt, encode_response
from ditto_desk.core.models.scoring import response_logprobs
from ditto_desk.core.training.config import TrainingConfig
from ditto_desk.core.training.examples import length_cap
from ditto_desk.core.training.sampling import draw_samples


@dataclass(frozen=True)
class HeldOutPreference:
    margins: tuple[float, ...]  # one per (held-out text, SFT draft) pair

    @property
    def mean(self) -> float:
        return sum(self.margins) / len(self.margins)

    @property
    def accuracy(self) -> float:
        """Share of pairs in which DITTO prefers the author's text (SFT: 0 by definition)."""
        return sum(m > 0 for m in self.margins) / len(self.margins)


def held_out_preference(
    model: object,
    tokenizer: object,
    requests: Sequence[str],
    texts: Sequence[str],
    config: TrainingConfig,
    drafts_per_text: int = 4,
    seed: int = 0,
) -> HeldOutPreference:
    """``model`` holds both adapters (a finished DittoRun's model, or the evaluation's saved pair); drafts are
    sampled and capped as training samples its rejected texts, and rewards use its beta."""
    c = config
    prompts = [encode_prompt(tokenizer, r) for r in requests]
    real = [encode_response(tokenizer, t) for t in texts]
    caps = [length_cap(len(r), c.length_factor) for r in real]
    with method_model(model, "sft"):
        drafts = draw_samples(
            model,
            tokenizer,
            prompts,
            drafts_per_text,
            caps,
            c.temperature,
            c.sample_batch_size,
            0,
            seed=seed,
            **c.sampling(),
        )
        examples = [Encoded(p, r) for p, r in zip(prompts, real, strict=True)]
        examples += [Encoded(prompts[d.example], d.ids) for d in drafts]
        pad = tokenizer.pad_token_id  # type: ignore[attr-defined]
        reference = [logp for logp, _ in response_logprobs(model, examples, pad)]
    with method_model(model, "ditto"):
        policy = [logp for logp, _ in response_logprobs(model, examples, pad)]
    reward = [c.beta * (p - r) for p, r in zip(policy, reference, strict=True)]
    margins = tuple(reward[d.example] - reward[len(real) + i] for i, d in enumerate(drafts))
    return HeldOutPreference(margins)
