"""Phase 2's training steps: DPO through trl against the frozen SFT model, and what each step reports.

DITTO's reference is the SFT model, which the engine keeps as its own frozen adapter ("sft", see
adapters.py). It scores every response once under that adapter and passes the log-probs in each batch;
trl's DPO loss reads them from there (its precomputed-reference path), so the reference never moves and
is never recomputed per step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from datasets import Dataset
from transformers import PrinterCallback, Trainer, get_scheduler
from trl import DPOConfig, DPOTrainer

from ditto_desk.core.errors import SettingError
from ditto_desk.core.progress import CancelToken, Phase
from ditto_desk.core.training.adapters import POLICY_ADAPTER, restore, snapshot
from ditto_desk.core.training.config import TrainingConfig, micro_batches
from ditto_desk.core.training.pairs import Pair, count_kinds
from ditto_desk.core.training.report import COST_TRAIN_TOKEN, RunReport
from ditto_desk.core.training.trainer_glue import StepReporter, common_args


class _ReferenceFromBatchDPOTrainer(DPOTrainer):
    """DPOTrainer fed pre-tokenised pairs that already carry the reference log-probs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # trl's own precomputed-reference path: _compute_loss reads ref_*_logps from the batch.
        self.precompute_ref_logps = True

    def _prepare_dataset(self, dataset: Dataset, *args: Any, **kwargs: Any) -> Dataset:
        return dataset  # already tokenised by the engine, exactly as the reference log-probs were computed


def make_optimizer(model: Any, args: DPOConfig, config: TrainingConfig) -> tuple[torch.optim.Optimizer, Any]:
    """One optimizer and schedule for every round of DPO (a new one per round would reset its state); the
    optimizer by its transformers name (``args.optim``), as SFT's, and the schedule over all DPO steps."""
    optimizer_cls, kwargs = Trainer.get_optimizer_cls_and_kwargs(args, model)
    # Weight decay in a parameter group, as Trainer sets it (AdamW's own default would be 0.01).
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = optimizer_cls([{"params": params, "weight_decay": args.weight_decay}], **kwargs)
    scheduler = get_scheduler(
        config.dpo_scheduler,
        optimizer,
        num_warmup_steps=round(config.dpo_warmup_ratio * config.dpo_steps),
        num_training_steps=max(config.dpo_steps, 1),
    )
    return optimizer, scheduler


def length_desensitized(token_logps: Sequence[float], shared: int, ld_alpha: float | None) -> float:
    """A response's log-prob as trl's DPO loss sums it: the first ``shared`` tokens in full and the rest weighted
    by ``ld_alpha`` (LD-DPO; None weighs every token in full, plain DPO)."""
    tail = sum(token_logps[shared:])
    return sum(token_logps[:shared]) + (tail if ld_alpha is None else ld_alpha * tail)


def pairs_dataset(
    prompts: Sequence[tuple[int, ...]],
    pairs: Sequence[Pair],
    reference: Callable[[int, tuple[int, ...]], Sequence[float]] | None = None,
    ld_alpha: float | None = None,
) -> Dataset:
    """Tokenised pairs, with the reference log-probs once ``reference`` gives them (per token), summed as
    trl's loss sums the policy's: past the shorter response's length weighted by ``ld_alpha``."""
    rows = []
    for p in pairs:
        row: dict[str, Any] = {
            "prompt_ids": list(prompts[p.example]),
            "chosen_ids": list(p.chosen),
            "rejected_ids": list(p.rejected),
        }
        if reference is not None:
            shared = min(len(p.chosen), len(p.rejected))
            row["ref_chosen_logps"] = length_desensitized(reference(p.example, p.chosen), shared, ld_alpha)
            row["ref_rejected_logps"] = length_desensitized(reference(p.example, p.rejected), shared, ld_alpha)
        rows.append(row)
    return Dataset.from_list(rows)


def pair_sequences(prompts: Sequence[tuple[int, ...]], pairs: Sequence[Pair]) -> list[tuple[int, ...]]:
    """The token sequences DPO passes over for ``pairs``: each prompt with its chosen and its rejected text."""
    return [prompts[p.example] + side for p in pairs for side in (p.chosen, p.rejected)]


def _losses(config: TrainingConfig) -> dict[str, Any]:
    weighted = [(name, w) for name, w in (("sigmoid", config.dpo_weight), ("sft", config.rpo_alpha)) if w > 0]
    if not weighted:
        raise SettingError("DPO needs dpo_weight or rpo_alpha above 0")
    return {"loss_type": [name for name, _ in weighted], "loss_weights": [w for _, w in weighted]}


class DpoRounds:
    """One trl DPOTrainer, one optimizer and one schedule for every round; each round brings new pairs.

    The trainer trains the policy adapter ("default", trl's name for it). Every batch carries its reference
    log-probs, so trl needs no reference of its own.
    """

    def __init__(
        self, model: Any, tokenizer: Any, first_pairs: Dataset, config: TrainingConfig, device: str, cancel: CancelToken
    ) -> None:
        self.config = config
        self.reporter = StepReporter(lambda step, logs: False, cancel)
        per_pass, accumulation = micro_batches(config.dpo_batch_size, config.micro_batch_size)
        args = DPOConfig(
            **common_args(device, config.seed) | {"activation_checkpointing": config.dpo_gradient_checkpointing},
            # Non-reentrant: with the reentrant kind, frozen inputs leave the LoRA weights without gradients.
            activation_checkpointing_kwargs={"use_reentrant": False},
            per_device_train_batch_size=per_pass,
            gradient_accumulation_steps=accumulation,
            max_steps=max(config.resample_every, 1),
            optim=config.dpo_optimizer,
            learning_rate=config.dpo_learning_rate,
            weight_decay=0.0,
            beta=config.beta,
            # DPO's sigmoid loss, plus the chosen texts' mean token NLL weighted by rpo_alpha when asked for.
            **_losses(config),
            # LD-DPO: a rejected sample's tokens past the chosen text's length (or the reverse) count ld_alpha each,
            # so DPO cannot raise its margin by making every response shorter (the engine's reference sums alike).
            ld_alpha=config.ld_alpha,
            max_length=None,
            precompute_ref_log_probs=False,
            remove_unused_columns=False,
            # In order: the engine shuffled the pairs itself, and step i trains on its batch i (the training
            # log records what each step saw).
            train_sampling_strategy="sequential",
            # Dropout off in DPO (trl's default, named here): the reference was scored without dropout, so at step 0
            # the policy's log-probs are the reference's exactly and the implicit rewards carry no dropout noise.
            disable_dropout=True,
        )
        self.optimizer, self.scheduler = make_optimizer(model, args, config)  # kept whole in a checkpoint
        self.trainer = _ReferenceFromBatchDPOTrainer(
            model=model,
            args=args,
            train_dataset=first_pairs,  # each round's pairs replace these (see train)
            processing_class=tokenizer,
            optimizers=(self.optimizer, self.scheduler),
            callbacks=[self.reporter],
        )
        self.trainer.remove_callback(PrinterCallback)
        # trl copies the policy into a "ref" adapter for a reference of its own; ours comes with every batch, so
        # that copy would only take memory and could be mistaken for the reference.
        model.delete_adapter("ref")
        model.set_adapter(POLICY_ADAPTER)  # peft's rule: the active adapter trains, every other one is frozen

    def train(self, dataset: Dataset, steps: int, on_step: Callable[[int, dict[str, float]], bool]) -> None:
        """Run ``steps`` DPO steps of ``dpo_batch_size`` pairs each."""
        self.reporter.on_step = on_step
        self.trainer.train_dataset = dataset
        self.trainer.args.max_steps = steps
        self.trainer.train()


class DpoSteps:
    """What happens after each DPO step: its entry in the training log (loss, reward margin and accuracy, the kinds
    of pairs it trained on), its progress event, and the stop once the margin passes ``dpo_stop_margin``, with
    the last policy within it put back. Made before the first step: the policy as it is then is the fallback."""

    def __init__(
        self, model: Any, config: TrainingConfig, report: RunReport, pair_kinds: Sequence[str], mean_length: float
    ) -> None:
        self.model = model
        self.config = config
        self.report = report
        self.pair_kinds = pair_kinds
        self.step_cost = 2 * config.dpo_batch_size * mean_length * COST_TRAIN_TOKEN  # for the ETA
        self.policy_states = [snapshot(model, POLICY_ADAPTER)]  # the policy before each of the last two updates

    def reporter(
        self, round_index: int, first_step: int, batches: Sequence[Sequence[Pair]]
    ) -> Callable[[int, dict[str, float]], bool]:
        """``on_step`` for one round's :meth:`DpoRounds.train`, whose step ``i`` trains on ``batches[i - 1]``."""
        c, report = self.config, self.report

        def on_step(step: int, logs: dict[str, float]) -> bool:
            report.clock.advance(self.step_cost)
            entry: dict[str, Any] = {
                "phase": Phase.DPO,
                "round": round_index + 1,
                "step": first_step + step,
                "loss": logs["loss"],
                "reward_margin": logs.get("rewards/margins"),
                "reward_accuracy": logs.get("rewards/accuracies"),
                "pairs": count_kinds(batches[step - 1], self.pair_kinds),
                "elapsed": report.clock.elapsed,
            }
            report.stats.log.append(entry)
            report.emit(
                Phase.DPO,
                f"Round {round_index + 1} of {c.n_rounds}: preference step {first_step + step} of {c.dpo_steps}",
                first_step + step,
                c.dpo_steps,
                loss=entry["loss"],
                reward_margin=entry["reward_margin"],
                reward_accuracy=entry["reward_accuracy"],
            )
            margin = entry["reward_margin"]
            if c.dpo_stop_margin is not None and margin is not None and margin > c.dpo_stop_margin:
                # The margin is measured before the step's update, on the policy of one step back: keep the
                # policy from before that, the last one whose margin was within the limit (or SFT's).
                report.stats.stopped_at_margin = margin
                restore(self.model, POLICY_ADAPTER, self.policy_states[0])
                return True
            self.policy_states = [*self.policy_states, snapshot(self.model, POLICY_ADAPTER)][-2:]
            return False

        return on_step
