"""Phase 2's training step: DPO through trl against the frozen SFT model.

trl 1.16 cannot name a reference *adapter* (with peft its reference is the base model), but its DPO
loss can read reference log-probs from each batch. The engine computes them once per response with
the SFT adapter and passes them in, so the reference never moves and is never recomputed per step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from datasets import Dataset
from transformers import PrinterCallback, get_scheduler
from trl import DPOConfig, DPOTrainer

from .config import TrainingConfig, micro_batches
from .pairs import Pair
from .progress import CancelToken
from .trainer_glue import StepReporter, common_args


class _ReferenceFromBatchDPOTrainer(DPOTrainer):
    """DPOTrainer fed pre-tokenised pairs that already carry the reference log-probs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # trl's own precomputed-reference path: _compute_loss reads ref_*_logps from the batch.
        self.precompute_ref_logps = True

    def _prepare_dataset(self, dataset: Dataset, *args: Any, **kwargs: Any) -> Dataset:
        return dataset  # already tokenised by the engine, exactly as the reference log-probs were computed


def make_optimizer(model: Any, config: TrainingConfig) -> tuple[torch.optim.Optimizer, Any]:
    """One optimizer and schedule for every round of DPO (a new one per round would reset its state)."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "rmsprop":
        optimizer: torch.optim.Optimizer = torch.optim.RMSprop(params, lr=config.dpo_learning_rate)
    else:
        optimizer = torch.optim.AdamW(params, lr=config.dpo_learning_rate, weight_decay=0.0)
    scheduler = get_scheduler(
        config.dpo_scheduler,
        optimizer,
        num_warmup_steps=round(config.dpo_warmup_ratio * config.dpo_steps),
        num_training_steps=max(config.dpo_steps, 1),
    )
    return optimizer, scheduler


def pairs_dataset(
    prompts: Sequence[tuple[int, ...]],
    pairs: Sequence[Pair],
    reference: Callable[[int, tuple[int, ...]], float] | None = None,
) -> Dataset:
    """Tokenised pairs, with the reference log-probs once they are known."""
    rows = []
    for p in pairs:
        row: dict[str, Any] = {
            "prompt_ids": list(prompts[p.example]),
            "chosen_ids": list(p.chosen),
            "rejected_ids": list(p.rejected),
        }
        if reference is not None:
            row["ref_chosen_logps"] = reference(p.example, p.chosen)
            row["ref_rejected_logps"] = reference(p.example, p.rejected)
        rows.append(row)
    return Dataset.from_list(rows)


class DpoRounds:
    """One trl DPOTrainer, one optimizer and one schedule for every round; each round brings new pairs.

    Creating the trainer copies the current adapter ("default", fresh from SFT) into a frozen "ref"
    adapter: that is trl's own convention, and exactly DITTO's reference, the SFT model.
    """

    def __init__(
        self, model: Any, tokenizer: Any, first_pairs: Dataset, config: TrainingConfig, device: str, cancel: CancelToken
    ) -> None:
        self.config = config
        self.reporter = StepReporter(lambda step, logs: False, cancel)
        per_pass, accumulation = micro_batches(config.dpo_batch_size, config.micro_batch_size)
        args = DPOConfig(
            **common_args(device, config.seed) | {"gradient_checkpointing": config.dpo_gradient_checkpointing},
            # Non-reentrant: with the reentrant kind, frozen inputs leave the LoRA weights without gradients.
            gradient_checkpointing_kwargs={"use_reentrant": False},
            per_device_train_batch_size=per_pass,
            gradient_accumulation_steps=accumulation,
            max_steps=max(config.resample_every, 1),
            beta=config.beta,
            # DPO's sigmoid loss, plus the chosen texts' mean token NLL weighted by rpo_alpha when asked for.
            loss_type=["sigmoid", "sft"] if config.rpo_alpha > 0 else ["sigmoid"],
            loss_weights=[1.0, config.rpo_alpha] if config.rpo_alpha > 0 else None,
            max_length=None,
            precompute_ref_log_probs=False,
            remove_unused_columns=False,
            # In order: the engine shuffled the pairs itself, and step i trains on its batch i (the training
            # log records what each step saw).
            train_sampling_strategy="sequential",
        )
        self.trainer = _ReferenceFromBatchDPOTrainer(
            model=model,
            args=args,
            train_dataset=first_pairs,  # each round's pairs replace these (see train)
            processing_class=tokenizer,
            optimizers=make_optimizer(model, config),
            callbacks=[self.reporter],
        )
        self.trainer.remove_callback(PrinterCallback)

    def train(self, dataset: Dataset, steps: int, on_step: Callable[[int, dict[str, float]], bool]) -> None:
        """Run ``steps`` DPO steps of ``dpo_batch_size`` pairs each."""
        self.reporter.on_step = on_step
        self.trainer.train_dataset = dataset
        self.trainer.args.max_steps = steps
        self.trainer.train()
