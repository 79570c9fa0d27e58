"""Every DITTO hyperparameter, with three presets.

``paper`` follows the reference code's defaults (DITTO's, Shaikh et al. 2025); ``standard`` and ``quick``
are tuned for a small model on a laptop CPU: a LoRA learns nothing in 30 steps at the paper's 3e-5,
so their learning rates are those LoRA fine-tuning normally uses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ditto_desk.core.errors import SettingError
from ditto_desk.core.training.setting_rules import checked_overrides


@dataclass(frozen=True)
class TrainingConfig:
    # LoRA adapter
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    # LoRA on the top this many decoder layers only (None: every layer). The layers below are then frozen, and
    # their output for a text is computed once for the whole run instead of at every pass (trunk.py).
    lora_layers: int | None = None
    # Phase 1: SFT on the demonstrations (loss on the response only, EOS kept)
    sft_learning_rate: float = 3e-4
    sft_max_steps: int = 30
    sft_batch_size: int = 4
    sft_warmup_ratio: float = 0.1
    sft_scheduler: str = "cosine"
    sft_stop_loss: float = 1.0  # stop early once a step's loss falls below this
    sft_optimizer: str = "adamw_torch"  # a transformers `optim` name
    # Phase 2: iterated online comparisons (DPO against the frozen SFT model)
    dpo_learning_rate: float = 5e-5
    dpo_steps: int = 40
    resample_every: int = 10  # DPO steps between two sampling rounds
    n_samples: int = 10  # samples per demonstration per round
    dpo_batch_size: int = 8  # preference pairs per DPO step
    beta: float = 0.05
    dpo_warmup_ratio: float = 0.25
    dpo_scheduler: str = "constant_with_warmup"
    dpo_optimizer: str = "adamw_torch"
    share_expert: float = 0.7  # demonstration > latest round's sample
    share_replay: float = 0.2  # demonstration > an earlier round's sample
    share_intermodel: float = 0.1  # later round's sample > earlier round's sample
    # A likelihood term on the chosen texts (trl's "sft" loss beside "sigmoid", as in RPO): keeps DPO from
    # pushing every likelihood down until the drafts slide into junk. 0 is plain DPO, as in the paper.
    rpo_alpha: float = 0.0
    # LD-DPO (Liu et al. 2024, trl's ld_alpha): tokens past the shorter response of a pair count this much in
    # DPO's log-probs; None counts them in full (plain DPO), which can raise its margin by ending every response
    # sooner. Off in every preset: at 0.5 the quick preset's drafts ended and ran as long as without it, and its
    # lead over SFT moved within the evaluation's error (benchmarks/eval_quick.md).
    ld_alpha: float | None = None
    dpo_weight: float = 1.0  # DPO's own loss beside it: 0 leaves the likelihood term alone (for comparisons)
    # Stop DPO once a step's mean reward margin passes this (None: never), keeping the last policy within it:
    # the policy has moved that far from its reference and over-optimises from there on (a Gemma-3-270M's
    # margin went 4.2, 11.9, 1.3, 12.7, 5.5).
    dpo_stop_margin: float | None = None
    # Sampling: the reference code sampled through a pipeline at temperature 1 with transformers' default
    # top_k 50, no top_p and no repetition penalty; all are named here rather than left to the library's or a
    # model's own defaults (some instruct models ship a repetition penalty in their generation config).
    temperature: float = 1.0
    top_k: int = 50
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    max_new_tokens: int | None = None  # None: each prompt's cap comes from its own demonstration's length
    length_factor: float = 1.3  # cap = length_factor * the demonstration's tokens
    # Long texts are learnt in segments of at most this many tokens, split at paragraph ends (segments.py).
    segment_tokens: int = 448
    max_length: int = 512  # prompt + response tokens seen in training
    sample_batch_size: int = 16  # sequences generated together
    # Texts (SFT) or pairs (DPO) per forward pass; gradient accumulation makes up the batch. Activations of a
    # whole DPO batch (8 sequences of up to 384 tokens, logits over a 49k vocabulary) took peak RSS to 7.8 GB.
    micro_batch_size: int = 1
    # Recompute DPO's activations in the backward pass instead of keeping them: less memory, a little more time.
    dpo_gradient_checkpointing: bool = False
    # The model width (hidden size) the learning rates were tuned at, or None. A wider model's LoRA takes the
    # rates x tuned_width / width, as Adam's step is scaled for width in muP: the quick rates, tuned on the
    # 135M model (576 wide), sent a 0.63B model's DPO margin to +6.6 in three steps and then to -4.6.
    lr_tuned_width: int | None = None
    # Teaching by editing (teach.py): an update from the current style is one round of this many DPO steps, in
    # which (edited > draft) pairs of the edits not yet taught take this share of the pairs; the rest keep
    # DITTO's expert / replay / inter-model shares. 4 steps move the taught edits and leave the others nearly
    # where they were, in under a minute on 2 cores (benchmarks/teach.md).
    teach_steps: int = 4
    share_edit: float = 0.5
    seed: int = 42

    @property
    def n_rounds(self) -> int:
        return -(-self.dpo_steps // self.resample_every) if self.dpo_steps > 0 else 0

    def trained_layers(self, n_layers: int) -> list[int] | None:
        """The indices of the decoder layers LoRA trains (the top ``lora_layers``), or None for all of them."""
        if self.lora_layers is None or self.lora_layers >= n_layers:
            return None
        return list(range(n_layers - self.lora_layers, n_layers))

    def for_width(self, width: int) -> TrainingConfig:
        """These settings for a model ``width`` wide: the learning rates scaled down for a wider one."""
        if self.lr_tuned_width is None or width <= self.lr_tuned_width:
            return self
        scale = self.lr_tuned_width / width
        return replace(
            self, sft_learning_rate=self.sft_learning_rate * scale, dpo_learning_rate=self.dpo_learning_rate * scale
        )

    def sampling(self) -> dict[str, Any]:
        """How DITTO samples its texts to compare, as ``generate`` arguments besides the temperature."""
        return {"top_k": self.top_k, "top_p": self.top_p, "repetition_penalty": self.repetition_penalty}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["lora_targets"] = list(self.lora_targets)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainingConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "lora_targets" in values:
            values["lora_targets"] = tuple(values["lora_targets"])
        return cls(**values)

    def with_overrides(self, **overrides: Any) -> TrainingConfig:
        """This config with some settings changed; each is checked first (setting_rules.py)."""
        return replace(self, **checked_overrides(overrides))


PRESETS: dict[str, TrainingConfig] = {
    "paper": TrainingConfig(
        lora_r=32,
        lora_alpha=64,
        sft_learning_rate=3e-5,
        sft_warmup_ratio=0.2,
        dpo_learning_rate=1e-6,
        # The reference code's one set of training arguments (alignment-handbook's DPOConfig, optim "rmsprop" by
        # default) drives both of its phases; the paper says AdamW.
        sft_optimizer="rmsprop",
        dpo_optimizer="rmsprop",
    ),
    "standard": TrainingConfig(
        segment_tokens=320,
        sft_learning_rate=5e-4,
        sft_max_steps=20,
        dpo_steps=12,
        resample_every=4,
        n_samples=6,
        dpo_batch_size=6,
        lr_tuned_width=576,
        dpo_stop_margin=6.0,
    ),
    # For a person waiting at a laptop: a few minutes on two CPU cores with four short emails. DPO at 1e-4 for 4
    # steps left the policy where SFT put it; 6 steps at 5e-4 put DITTO clearly ahead (benchmarks/eval_quick.md).
    "quick": TrainingConfig(
        sft_learning_rate=1e-3,
        dpo_learning_rate=5e-4,
        sft_max_steps=10,
        dpo_steps=6,
        resample_every=3,
        n_samples=4,
        dpo_batch_size=4,
        dpo_warmup_ratio=0.0,
        # Segments of 192 tokens and checkpointed DPO keep the peak near 2 GB on real emails, for a few seconds
        # more than without checkpointing (benchmarks/levers.md).
        segment_tokens=192,
        dpo_gradient_checkpointing=True,
        # The chosen texts' likelihood beside DPO (RPO) keeps the drafts readable: with plain DPO they ended on
        # their own less often and slid towards junk, for no more of a lead over SFT (benchmarks/eval_quick.md).
        rpo_alpha=1.0,
        max_length=384,
        # Samples may run to 1.1 x their text (the default 1.3): less time on the samples, a larger lead over SFT
        # and drafts that end on their own more often; 1.0 was less steady (benchmarks/eval_quick.md).
        length_factor=1.1,
        lr_tuned_width=576,  # the bundled model's
        # The bundled model's margins end well below it (benchmarks/dpo_gain.md): a guard for wider models.
        dpo_stop_margin=6.0,
    ),
}

DEFAULT_PRESET = "quick"


def preset(name: str) -> TrainingConfig:
    try:
        return PRESETS[name]
    except KeyError:
        raise SettingError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None


def micro_batches(batch_size: int, micro_batch_size: int) -> tuple[int, int]:
    """(examples per forward pass, forward passes per optimizer step) for a batch of about ``batch_size``."""
    accumulation = -(-batch_size // max(micro_batch_size, 1))
    return -(-batch_size // accumulation), accumulation
