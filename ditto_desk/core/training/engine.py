"""The DITTO engine: SFT on the demonstrations, then rounds of sampling and DPO in which the user's
texts beat the model's samples and later samples beat earlier ones (shared/design/ditto.md).

A ``DittoRun`` owns its model, its samples and its pairs: two runs in one process share nothing.
It reports progress through a callback and checks a cancel flag between steps, between sampling
batches and, through hooks, inside every decoder layer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, get_peft_model

from ditto_desk.core.errors import InputError
from ditto_desk.core.models.chat import Encoded
from ditto_desk.core.models.loading import LoadedModel
from ditto_desk.core.models.scoring import response_token_logprobs
from ditto_desk.core.progress import CancelToken, Phase, ProgressCallback, ProgressClock, ignore_progress
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.texts.prompts import derive_prompt
from ditto_desk.core.training.adapters import (
    POLICY_ADAPTER,
    REFERENCE_ADAPTER,
    check_frozen,
    freeze_copy,
    restore,
    snapshot,
    write_adapter,
)
from ditto_desk.core.training.config import TrainingConfig
from ditto_desk.core.training.dpo import DpoRounds, pairs_dataset
from ditto_desk.core.training.interrupt import cancel_checkpoints
from ditto_desk.core.training.pairs import (
    EXPERT,
    INTER_MODEL,
    KINDS,
    REPLAY,
    Pair,
    SamplePool,
    build_round_pairs,
    count_kinds,
)
from ditto_desk.core.training.sampling import Sample, draw_samples, length_cap
from ditto_desk.core.training.segments import Example, encode_demonstrations
from ditto_desk.core.training.sft import train_sft

# Relative cost of one token in each kind of work, measured on a 2-core CPU: they only shape the ETA.
_COST_TRAIN_TOKEN, _COST_GENERATED_TOKEN, _COST_SCORED_TOKEN = 1.0, 1.6, 0.35


@dataclass
class RunStats:
    log: list[dict[str, Any]] = field(default_factory=list)
    samples_drawn: int = 0
    samples_cut: int = 0
    phase_seconds: dict[str, float] = field(default_factory=dict)
    stopped_at_margin: float | None = None  # DPO stopped early: its reward margin passed dpo_stop_margin


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
        self.config = config.for_width(int(loaded.model.config.get_text_config().hidden_size))
        self.progress = progress
        self.cancel = cancel or CancelToken()
        self.rng = random.Random(config.seed)
        self.stats = RunStats()
        requests = [d.prompt.strip() or derive_prompt(d.text) for d in demonstrations]
        self.examples = encode_demonstrations(
            self.tokenizer, requests, [d.text for d in demonstrations], config.segment_tokens, config.max_length
        )
        self.n_demos = len(demonstrations)
        self.prompts = [e.prompt_ids for e in self.examples]
        self.responses = [e.response_ids for e in self.examples]
        self.caps = [self._sample_cap(e) for e in self.examples]
        self.pool = SamplePool(len(self.examples))
        self._reference: dict[tuple[int, tuple[int, ...]], tuple[float, ...]] = {}  # per-token log-probs
        self._reference_fingerprint: str | None = None
        self._policy_states: list[dict[str, Any]] = []  # the policy before each of the last DPO updates
        self.model: Any = None
        self.pair_kinds = KINDS  # the kinds of pair the training log counts
        self.clock = ProgressClock(self._planned_cost())

    def _sample_cap(self, example: Example) -> int:
        """New-token cap for samples of one example, from its own demonstration, within the training window.

        Samples of a text's last segment may run a little longer than it (``length_factor``) so that they can end
        on their own; a segment that the text goes on past is cut at its own length, as the text itself was.
        """
        c = self.config
        own = len(example.response_ids)
        cap = c.max_new_tokens or (length_cap(own, c.length_factor) if example.final else own)
        return max(8, min(cap, c.max_length - len(example.prompt_ids)))

    # ----- cost model for the ETA -----
    @property
    def mean_length(self) -> float:
        return sum(e.encoded.length for e in self.examples) / len(self.examples)

    def _planned_cost(self) -> float:
        c = self.config
        sft = c.sft_max_steps * min(c.sft_batch_size, len(self.examples)) * self.mean_length * _COST_TRAIN_TOKEN
        mean_cap = sum(self.caps) / len(self.caps)
        per_sample = mean_cap * 0.75 * _COST_GENERATED_TOKEN + (self.mean_length + mean_cap) * _COST_SCORED_TOKEN
        sampling = c.n_rounds * self.n_demos * c.n_samples * per_sample
        dpo = c.dpo_steps * 2 * c.dpo_batch_size * self.mean_length * _COST_TRAIN_TOKEN
        return sft + sampling + dpo

    def _emit(self, phase: Phase, message: str, step: int = 0, total: int = 0, **metrics: Any) -> None:
        drawn = self.stats.samples_drawn
        self.progress(self.clock.event(phase, message, step=step, total=total, samples_drawn=drawn, **metrics))

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
            task_type="CAUSAL_LM",
        )
        self.model = get_peft_model(self.loaded.model, lora, adapter_name=POLICY_ADAPTER)
        with cancel_checkpoints(self.model, self.cancel), self.loaded.autocast():
            with self._timed(Phase.SFT):
                self._sft()
            if c.dpo_steps > 0:
                self._ditto_rounds()
        self.clock.advance(self.clock.total_units)
        self._emit(Phase.DONE, "Training finished")
        return self.model

    @contextmanager
    def _timed(self, phase: Phase) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.stats.phase_seconds[phase] = self.stats.phase_seconds.get(phase, 0.0) + time.monotonic() - start

    def _sft(self) -> None:
        c = self.config
        step_cost = min(c.sft_batch_size, len(self.examples)) * self.mean_length
        self._emit(Phase.SFT, "Learning from your texts (SFT)…", 0, c.sft_max_steps)

        def on_step(step: int, logs: dict[str, float]) -> bool:
            self.clock.advance(step_cost * _COST_TRAIN_TOKEN)
            entry = {"phase": Phase.SFT, "step": step, "loss": logs["loss"], "elapsed": self.clock.elapsed}
            self.stats.log.append(entry)
            self._emit(Phase.SFT, f"Learning from your texts: step {step}", step, c.sft_max_steps, loss=logs["loss"])
            if logs["loss"] < c.sft_stop_loss:  # early stop: give back the unused steps to the ETA
                self.clock.total_units -= (c.sft_max_steps - step) * step_cost * _COST_TRAIN_TOKEN
            return False

        encoded = [e.encoded for e in self.examples]
        train_sft(self.model, self.tokenizer, encoded, c, self.loaded.device, self.cancel, on_step)

    def _ditto_rounds(self) -> None:
        c = self.config
        shares = {EXPERT: c.share_expert, REPLAY: c.share_replay, INTER_MODEL: c.share_intermodel}
        dpo: DpoRounds | None = None
        done_steps = 0
        for round_index in range(c.n_rounds):
            with self._timed(Phase.SAMPLE):
                samples = self._sample_round(round_index)
            self.pool.add_round(samples)
            steps = min(c.resample_every, c.dpo_steps - done_steps)
            # The round's pairs, in the spec's shares over the whole round; step i trains on batch i, in order.
            pairs = build_round_pairs(self.rng, self.responses, self.pool, steps * c.dpo_batch_size, shares)
            batches = [pairs[i * c.dpo_batch_size : (i + 1) * c.dpo_batch_size] for i in range(steps)]
            if dpo is None:
                # DITTO's reference: the policy as SFT left it, frozen, never updated (the design's "sft" adapter).
                self._reference_fingerprint = freeze_copy(self.model, POLICY_ADAPTER, REFERENCE_ADAPTER)
                self._policy_states = [snapshot(self.model, POLICY_ADAPTER)]  # the last two; the first is SFT's
                unscored = pairs_dataset(self.prompts, pairs)
                dpo = DpoRounds(self.model, self.tokenizer, unscored, c, self.loaded.device, self.cancel)
            with self._timed(Phase.REFERENCE):
                self._score_reference(samples)
            dataset = pairs_dataset(self.prompts, pairs, self._reference_token_logps, c.ld_alpha)
            on_step = self._dpo_reporter(round_index, done_steps, batches)
            with self._timed(Phase.DPO):
                dpo.train(dataset, steps, on_step)
            done_steps += steps
            if self.stats.stopped_at_margin is not None:  # over-optimising: no more rounds
                break

    def _dpo_reporter(self, round_index: int, first_step: int, batches: list[list[Pair]]) -> Any:
        c = self.config

        def on_step(step: int, logs: dict[str, float]) -> bool:
            self.clock.advance(2 * c.dpo_batch_size * self.mean_length * _COST_TRAIN_TOKEN)
            entry = {
                "phase": Phase.DPO,
                "round": round_index + 1,
                "step": first_step + step,
                "loss": logs["loss"],
                "reward_margin": logs.get("rewards/margins"),
                "reward_accuracy": logs.get("rewards/accuracies"),
                "pairs": count_kinds(batches[step - 1], self.pair_kinds),
                "elapsed": self.clock.elapsed,
            }
            self.stats.log.append(entry)
            self._emit(
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
                self.stats.stopped_at_margin = margin
                restore(self.model, POLICY_ADAPTER, self._policy_states[0])
                return True
            self._policy_states = [*self._policy_states, snapshot(self.model, POLICY_ADAPTER)][-2:]
            return False

        return on_step

    def _round_counts(self, round_index: int) -> list[int]:
        """Samples per example this round: ``n_samples`` per demonstration, spread over its segments, starting
        one segment further each round so that over the rounds every segment of a long text gets its samples."""
        counts = [0] * len(self.examples)
        for demo in range(self.n_demos):
            parts = [i for i, e in enumerate(self.examples) if e.demo_index == demo]
            for k in range(self.config.n_samples):
                counts[parts[(round_index * self.config.n_samples + k) % len(parts)]] += 1
        return counts

    def _sample_round(self, round_index: int) -> list[Sample]:
        c = self.config
        counts = self._round_counts(round_index)
        total = sum(counts)
        message = f"Round {round_index + 1} of {c.n_rounds}: drawing {total} samples"
        self._emit(Phase.SAMPLE, message, 0, total)
        seq_cost = sum(n * cap for n, cap in zip(counts, self.caps, strict=True)) / total * 0.75
        drawn_before = [0]

        def on_batch(done: int, total: int) -> None:
            self.clock.advance((done - drawn_before[0]) * seq_cost * _COST_GENERATED_TOKEN)
            self.stats.samples_drawn += done - drawn_before[0]
            drawn_before[0] = done
            self._emit(Phase.SAMPLE, message, done, total)

        start = time.monotonic()
        samples = draw_samples(
            self.model,
            self.tokenizer,
            self.prompts,
            counts,
            self.caps,
            c.temperature,
            c.sample_batch_size,
            round_index,
            self.cancel,
            on_batch,
            **c.sampling(),
        )
        cut = sum(s.cut for s in samples)
        self.stats.samples_cut += cut
        self.stats.log.append(
            {
                "phase": Phase.SAMPLE,
                "round": round_index + 1,
                "samples": len(samples),
                "cut_at_cap": cut,
                "tokens": sum(len(s.ids) for s in samples),
                "seconds": time.monotonic() - start,
                "elapsed": self.clock.elapsed,
            }
        )
        return samples

    def _score_reference(self, samples: Sequence[Any]) -> None:
        """Log-probs under the frozen SFT model, once per response: demonstrations first, then new samples."""
        wanted = [(e, r) for e, r in enumerate(self.responses) if (e, r) not in self._reference]
        wanted += [(s.example, s.ids) for s in samples if (s.example, s.ids) not in self._reference]
        wanted = list(dict.fromkeys(wanted))
        if not wanted:
            return
        check_frozen(self.model, REFERENCE_ADAPTER, self._reference_fingerprint)
        self.model.set_adapter(REFERENCE_ADAPTER)
        try:
            scored = response_token_logprobs(
                self.model,
                [Encoded(self.prompts[e], r) for e, r in wanted],
                self.tokenizer.pad_token_id,
                cancel=self.cancel,
            )
        finally:
            self.model.set_adapter(POLICY_ADAPTER)  # also re-freezes the reference adapter
        for key, token_logps in zip(wanted, scored, strict=True):
            self._reference[key] = token_logps
        self.clock.advance(sum(len(self.prompts[e]) + len(r) for e, r in wanted) * _COST_SCORED_TOKEN)

    def _reference_token_logps(self, example: int, response: tuple[int, ...]) -> tuple[float, ...]:
        return self._reference[(example, response)]

    # ----- results -----
    def write_adapter(self, folder: Path) -> None:
        """Write the policy as a standard PEFT adapter folder (adapter_model.safetensors + adapter_config.json),
        with its frozen SFT reference beside it (the policy itself when no DPO ran: then it is SFT's)."""
        reference = REFERENCE_ADAPTER if REFERENCE_ADAPTER in self.model.peft_config else POLICY_ADAPTER
        write_adapter(self.model, POLICY_ADAPTER, self.loaded.name, folder, reference)
