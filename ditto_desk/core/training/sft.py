"""Phase 1: supervised fine-tuning of the policy adapter on the demonstrations (the design's "sft").

Loss on the response only (prompt tokens are labelled -100), EOS kept, early stop once a step's
loss falls below ``sft_stop_loss``. transformers' Trainer runs the loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from transformers import PrinterCallback, Trainer, TrainingArguments

from ditto_desk.core.models.chat import Encoded
from ditto_desk.core.models.scoring import pad_batch
from ditto_desk.core.progress import CancelToken
from ditto_desk.core.training.config import TrainingConfig, micro_batches
from ditto_desk.core.training.trainer_glue import StepReporter, common_args


class ResponseOnlyCollator:
    """Right-pads a batch; labels score the response tokens (EOS included) and nothing else."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, examples: Sequence[Encoded]) -> dict[str, Any]:
        return pad_batch(examples, self.pad_id, "cpu")


def train_sft(
    model: Any,
    tokenizer: Any,
    examples: Sequence[Encoded],
    config: TrainingConfig,
    device: str,
    cancel: CancelToken,
    on_step: Callable[[int, dict[str, float]], bool],
) -> None:
    """Train the active adapter. ``on_step(step, logs)`` reports each step; returning True stops early."""
    stop_loss = config.sft_stop_loss

    def report(step: int, logs: dict[str, float]) -> bool:
        stop_asked = on_step(step, logs)
        return stop_asked or logs["loss"] < stop_loss

    per_pass, accumulation = micro_batches(config.sft_batch_size, config.micro_batch_size)
    args = TrainingArguments(
        **common_args(device, config.seed),
        per_device_train_batch_size=per_pass,
        gradient_accumulation_steps=accumulation,
        max_steps=config.sft_max_steps,
        learning_rate=config.sft_learning_rate,
        lr_scheduler_type=config.sft_scheduler,
        warmup_steps=round(config.sft_warmup_ratio * config.sft_max_steps),
        optim=config.sft_optimizer,
        weight_decay=0.0,
        remove_unused_columns=False,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=list(examples),
        data_collator=ResponseOnlyCollator(tokenizer.pad_token_id),
        callbacks=[StepReporter(report, cancel)],
    )
    trainer.remove_callback(PrinterCallback)
    trainer.train()
