"""The DITTO engine: SFT on the demonstrations, then rounds of sampling and DPO in which the user's
texts beat the model's samples and later samples beat earlier ones.

A ``DittoRun`` owns its model, its samples and its pairs: two runs in one process share nothing.
It reports progress through a callback and checks a cancel flag between steps, between sampling
batches and, through hooks, inside every decoder layer.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, get_peft_model

from ditto_desk.core.errors import InputError
from ditto_desk.core.models.loading import LoadedModel
from ditto_desk.core.progress import CancelToken, Phase, ProgressCallback, ignore_progress
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.training.adapters import POLICY_ADAPTER, REFERENCE_ADAPTER, freeze_copy, write_trained
from ditto_desk.core.training.config import TrainingConfig
from ditto_desk.core.training.dpo import DpoRounds, DpoSteps, pair_sequences, pairs_dataset
from ditto_desk.core.training.examples import TrainingSet
from ditto_desk.core.training.interrupt import cancel_checkpoints
from ditto_desk.core.training.pairs import EXPERT, INTER_MODEL, KINDS, REPLAY, Pair, SamplePool, build_round_pairs
from ditto_desk.core.training.reference import ReferenceScores
from ditto_desk.core.training.report import COST_SCORED_TOKEN, COST_TRAIN_TOKEN, RunReport, RunStats, planned_cost
from ditto_desk.core.training.sampling import sample_round
from ditto_desk.core.training.sft import train_sft
from ditto_desk.core.training.trunk import Trunk, above


class DittoRun:
    def __init__(
        self,
        loaded: LoadedModel,
        demonstrations: Sequence[Demonstration],
        config: TrainingConfig,
        progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
    ) -> None:
        if not demonstrations:
            raise InputError("Add at least one demonstration before training.")
        self.loaded = loaded
        self.tokenizer = loaded.tokenizer
        self.config = config.for_width(loaded.width)
        self.cancel = cancel or CancelToken()
        self.rng = random.Random(config.seed)
        self.training = TrainingSet.of_demonstrations(self.tokenizer, demonstrations, config)
        self.pool = SamplePool(len(self.training.examples))
        self.report = RunReport(progress, planned_cost(self.config, self.training))
        self.reference: ReferenceScores | None = None  # made when SFT is over: the SFT model is the reference
        self.trunk: Trunk | None = None  # the frozen layers below LoRA's, when it trains the top ones only
        self.model: Any = None

    @property
    def stats(self) -> RunStats:
        return self.report.stats

    # ----- the algorithm -----
    def run(self) -> Any:
        """Train and return the peft model: its policy adapter is the result; after DPO, its frozen reference
        adapter is the SFT model."""
        torch.manual_seed(self.config.seed)
        c = self.config
        lora = LoraConfig(
            r=c.lora_r,
            lora_alpha=c.lora_alpha,
            lora_dropout=c.lora_dropout,
            target_modules=list(c.lora_targets),
            layers_to_transform=c.trained_layers(self.loaded.n_layers),
            task_type="CAUSAL_LM",
        )
        self.model = get_peft_model(self.loaded.model, lora, adapter_name=POLICY_ADAPTER)
        with cancel_checkpoints(self.model, self.cancel), self.loaded.autocast():
            self.trunk = Trunk.of(self.model, self.tokenizer.pad_token_id)
            with self.report.timed(Phase.SFT):
                self._sft()
            if c.dpo_steps > 0:
                self._ditto_rounds()
        self.report.finish("Training finished")
        return self.model

    def _sft(self) -> None:
        c, report = self.config, self.report
        step_cost = min(c.sft_batch_size, len(self.training.examples)) * self.training.mean_length * COST_TRAIN_TOKEN
        report.emit(Phase.SFT, "Learning from your texts (SFT)…", 0, c.sft_max_steps)

        def on_step(step: int, logs: dict[str, float]) -> bool:
            report.clock.advance(step_cost)
            entry = {"phase": Phase.SFT, "step": step, "loss": logs["loss"], "elapsed": report.clock.elapsed}
            report.stats.log.append(entry)
            report.emit(Phase.SFT, f"Learning from your texts: step {step}", step, c.sft_max_steps, loss=logs["loss"])
            if logs["loss"] < c.sft_stop_loss:  # early stop: give back the unused steps to the ETA
                report.clock.total_units -= (c.sft_max_steps - step) * step_cost
            return False

        encoded = [e.encoded for e in self.training.examples]
        with above(self.trunk, (e.prompt_ids + e.response_ids for e in encoded)):
            train_sft(self.model, self.tokenizer, encoded, c, self.loaded.device, self.cancel, on_step)

    def _ditto_rounds(self) -> None:
        c, report, training = self.config, self.report, self.training
        shares = {EXPERT: c.share_expert, REPLAY: c.share_replay, INTER_MODEL: c.share_intermodel}
        started: tuple[DpoRounds, DpoSteps, ReferenceScores] | None = None
        done_steps = 0
        for round_index in range(c.n_rounds):
            counts = training.round_counts(round_index, c.n_samples)
            with report.timed(Phase.SAMPLE):
                samples = sample_round(
                    self.model, self.tokenizer, training, counts, c, round_index, report, self.cancel
                )
            self.pool.add_round(samples)
            steps = min(c.resample_every, c.dpo_steps - done_steps)
            # The round's pairs, in the spec's shares over the whole round; step i trains on batch i, in order.
            pairs = build_round_pairs(self.rng, training.responses, self.pool, steps * c.dpo_batch_size, shares)
            batches = [pairs[i * c.dpo_batch_size : (i + 1) * c.dpo_batch_size] for i in range(steps)]
            if started is None:
                started = self._start_dpo(pairs)
            dpo, steps_after, reference = started
            with report.timed(Phase.REFERENCE):
                report.clock.advance(reference.score(training, samples) * COST_SCORED_TOKEN)
            dataset = pairs_dataset(training.prompts, pairs, reference.token_logps, c.ld_alpha)
            with report.timed(Phase.DPO), above(self.trunk, pair_sequences(training.prompts, pairs)):
                dpo.train(dataset, steps, steps_after.reporter(round_index, done_steps, batches))
            done_steps += steps
            if report.stats.stopped_at_margin is not None:  # over-optimising: no more rounds
                break

    def _start_dpo(self, first_pairs: list[Pair]) -> tuple[DpoRounds, DpoSteps, ReferenceScores]:
        """Once SFT is over: DITTO's reference, the policy as SFT left it, frozen and never updated (the design's
        "sft" adapter); the steps' reports, with SFT's policy as the fallback; and the one DPO trainer."""
        fingerprint = freeze_copy(self.model, POLICY_ADAPTER, REFERENCE_ADAPTER)
        self.reference = ReferenceScores(self.model, fingerprint, self.tokenizer.pad_token_id, self.cancel, self.trunk)
        steps_after = DpoSteps(self.model, self.config, self.report, KINDS, self.training.mean_length)
        unscored = pairs_dataset(self.training.prompts, first_pairs)
        dpo = DpoRounds(self.model, self.tokenizer, unscored, self.config, self.loaded.device, self.cancel)
        return dpo, steps_after, self.reference

    # ----- results -----
    def write_adapter(self, folder: Path) -> None:
        """Write the policy as a standard PEFT adapter folder (adapter_model.safetensors + adapter_config.json),
        with its frozen SFT reference beside it."""
        write_trained(self.model, self.loaded.name, folder)
