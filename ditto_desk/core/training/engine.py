"""The DITTO engine: SFT on the demonstrations, then rounds of sampling and DPO in which the user's
texts beat the model's samples and later samples beat earlier ones.

A ``DittoRun`` owns its model, its samples and its pairs: two runs in one process share nothing.
It reports progress through a callback and checks a cancel flag between steps, between sampling
batches and, through hooks, inside every decoder layer. Given its checkpoints, it keeps one when SFT ends and
when each round ends, and continues from this learning's last one (checkpoint.py).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, get_peft_model

from ditto_desk.core.errors import InputError
from ditto_desk.core.models.loading import LoadedModel
from ditto_desk.core.progress import CancelToken, Phase, ProgressCallback, ignore_progress
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.training.adapters import (
    POLICY_ADAPTER,
    REFERENCE_ADAPTER,
    fingerprint,
    freeze_copy,
    restore,
    snapshot,
    write_trained,
)
from ditto_desk.core.training.checkpoint import (
    Checkpoint,
    Checkpoints,
    done_in_words,
    load_optimizer,
    save_optimizer,
)
from ditto_desk.core.training.config import TrainingConfig
from ditto_desk.core.training.dpo import DpoRounds, DpoSteps, pair_sequences, pairs_dataset
from ditto_desk.core.training.examples import TrainingSet
from ditto_desk.core.training.interrupt import cancel_checkpoints
from ditto_desk.core.training.pairs import EXPERT, INTER_MODEL, KINDS, REPLAY, Pair, SamplePool, build_round_pairs
from ditto_desk.core.training.reference import ReferenceScores
from ditto_desk.core.training.report import COST_SCORED_TOKEN, COST_TRAIN_TOKEN, RunReport, RunStats, planned_cost
from ditto_desk.core.training.sampling import Sample, sample_round
from ditto_desk.core.training.sft import train_sft
from ditto_desk.core.training.trunk import Trunk, above

_Started = tuple[DpoRounds, DpoSteps, ReferenceScores]  # DPO's trainer, its steps' reports, its reference


class DittoRun:
    def __init__(
        self,
        loaded: LoadedModel,
        demonstrations: Sequence[Demonstration],
        config: TrainingConfig,
        progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
        checkpoints: Checkpoints | None = None,
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
        self.checkpoints = checkpoints
        self.resumed = ""  # what the stopped learning this run continued had done, in words
        self.fresh_because = ""  # why a checkpoint found was not continued from

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
        resumed = self._resumable()
        with cancel_checkpoints(self.model, self.cancel), self.loaded.autocast():
            self.trunk = Trunk.of(self.model, self.tokenizer.pad_token_id)
            if resumed is None:
                with self.report.timed(Phase.SFT):
                    self._sft()
                self._keep(0)
            else:
                self._resume(resumed)
            if c.dpo_steps > 0:
                self._ditto_rounds(resumed)
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

    def _ditto_rounds(self, resumed: Checkpoint | None) -> None:
        c, report, training = self.config, self.report, self.training
        shares = {EXPERT: c.share_expert, REPLAY: c.share_replay, INTER_MODEL: c.share_intermodel}
        started: _Started | None = None
        first_round = resumed.rounds_done if resumed is not None else 0
        done_steps = int(resumed.state["done_steps"]) if resumed is not None else 0
        if report.stats.stopped_at_margin is not None:  # the stopped learning had already stopped over-optimising
            return
        for round_index in range(first_round, c.n_rounds):
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
                started = self._start_dpo(pairs, resumed if first_round > 0 else None)
            dpo, steps_after, reference = started
            with report.timed(Phase.REFERENCE):
                report.clock.advance(reference.score(training, samples) * COST_SCORED_TOKEN)
            dataset = pairs_dataset(training.prompts, pairs, reference.token_logps, c.ld_alpha)
            with report.timed(Phase.DPO), above(self.trunk, pair_sequences(training.prompts, pairs)):
                dpo.train(dataset, steps, steps_after.reporter(round_index, done_steps, batches))
            done_steps += steps
            self._keep(round_index + 1, done_steps, started)
            if report.stats.stopped_at_margin is not None:  # over-optimising: no more rounds
                break

    def _start_dpo(self, first_pairs: list[Pair], resumed: Checkpoint | None = None) -> _Started:
        """Once SFT is over: DITTO's reference, the policy as SFT left it, frozen and never updated (the design's
        "sft" adapter); the steps' reports, with SFT's policy as the fallback; and the one DPO trainer. A resumed
        run takes all three as its checkpoint kept them."""
        if REFERENCE_ADAPTER in self.model.peft_config:  # put back by _resume
            frozen = fingerprint(self.model, REFERENCE_ADAPTER)
        else:
            frozen = freeze_copy(self.model, POLICY_ADAPTER, REFERENCE_ADAPTER)
        self.reference = ReferenceScores(self.model, frozen, self.tokenizer.pad_token_id, self.cancel, self.trunk)
        steps_after = DpoSteps(self.model, self.config, self.report, KINDS, self.training.mean_length)
        unscored = pairs_dataset(self.training.prompts, first_pairs)
        random_state = torch.get_rng_state()
        dpo = DpoRounds(self.model, self.tokenizer, unscored, self.config, self.loaded.device, self.cancel)
        if resumed is not None:
            torch.set_rng_state(random_state)  # the trainer seeds torch as it is made: after round 1, not here
            self.reference.scores = {
                (int(e), tuple(ids)): tuple(logps) for e, ids, logps in resumed.state["reference_scores"]
            }
            steps_after.policy_states = [resumed.group(f"fallback/{i}") for i in range(resumed.state["fallbacks"])]
            load_optimizer(resumed, dpo.optimizer, dpo.scheduler)
        return dpo, steps_after, self.reference

    # ----- checkpoints -----
    def _resumable(self) -> Checkpoint | None:
        if self.checkpoints is None:
            return None
        resumed, self.fresh_because = self.checkpoints.load()
        if self.fresh_because:
            self.report.emit(Phase.LOAD, f"Starting afresh: {self.fresh_because}.")
        return resumed

    def _keep(
        self, rounds_done: int, done_steps: int = 0, started: tuple[DpoRounds, DpoSteps, Any] | None = None
    ) -> None:
        """Keep what the next round needs: the policy, the random states, the samples, the statistics; once DPO has
        started, its reference and their scores, the fallback policies, the optimizer and its schedule."""
        if self.checkpoints is None:
            return
        kept = Checkpoint(rounds_done)
        kept.put("policy", snapshot(self.model, POLICY_ADAPTER))
        kept.tensors["torch_rng"] = torch.get_rng_state()
        version, internal, gauss = self.rng.getstate()
        kept.state.update(
            done_steps=done_steps,
            rng=[version, list(internal), gauss],
            pool=[[s.example, s.round, list(s.ids), s.cut] for r in self.pool.rounds for ss in r.values() for s in ss],
            stats=asdict(self.stats),
            clock=[self.report.clock.done_units, self.report.clock.total_units, self.report.clock.elapsed],
        )
        if started is not None:
            dpo, steps_after, reference = started
            kept.put("reference", snapshot(self.model, REFERENCE_ADAPTER))
            for i, state in enumerate(steps_after.policy_states):
                kept.put(f"fallback/{i}", state)
            kept.state["fallbacks"] = len(steps_after.policy_states)
            kept.state["reference_scores"] = [[e, list(ids), list(lp)] for (e, ids), lp in reference.scores.items()]
            save_optimizer(kept, dpo.optimizer, dpo.scheduler)
        self.checkpoints.save(kept, self.config.n_rounds)

    def _resume(self, kept: Checkpoint) -> None:
        """Put the run back as it was when ``kept`` was made (the DPO trainer's part waits for _start_dpo)."""
        restore(self.model, POLICY_ADAPTER, kept.group("policy"))
        if kept.group("reference"):
            freeze_copy(self.model, POLICY_ADAPTER, REFERENCE_ADAPTER)
            restore(self.model, REFERENCE_ADAPTER, kept.group("reference"))
        torch.set_rng_state(kept.tensors["torch_rng"])
        version, internal, gauss = kept.state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))
        samples = [Sample(e, r, tuple(ids), cut) for e, r, ids, cut in kept.state["pool"]]
        for index in range(kept.rounds_done):
            self.pool.add_round([s for s in samples if s.round == index])
        stats = kept.state["stats"]
        self.report.stats = RunStats(**stats)
        done, total, elapsed = kept.state["clock"]
        clock = self.report.clock
        clock.done_units, clock.total_units, clock.start = done, total, clock.start - elapsed
        self.resumed = done_in_words(kept.rounds_done, self.config.n_rounds)
        self.report.emit(Phase.LOAD, f"Continuing the stopped learning ({self.resumed} already done)…")

    # ----- results -----
    def write_adapter(self, folder: Path) -> None:
        """Write the policy as a standard PEFT adapter folder (adapter_model.safetensors + adapter_config.json),
        with its frozen SFT reference beside it."""
        write_trained(self.model, self.loaded.name, folder)
