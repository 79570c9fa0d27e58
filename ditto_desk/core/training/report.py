"""What a training run reports as it goes: progress events with an ETA, the time each phase took, and the
training log it leaves (one entry per SFT and DPO step and per sampling round). DITTO's runs and teaching's
updates share it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ditto_desk.core.progress import Phase, ProgressCallback, ProgressClock
from ditto_desk.core.training.config import TrainingConfig
from ditto_desk.core.training.examples import TrainingSet

# Relative cost of one token in each kind of work, measured on a 2-core CPU: they only shape the ETA.
COST_TRAIN_TOKEN, COST_GENERATED_TOKEN, COST_SCORED_TOKEN = 1.0, 1.6, 0.35
# Share of a sample's cap that its tokens come to, on average: most run to the cap, the others end earlier.
SAMPLED_SHARE = 0.75


@dataclass
class RunStats:
    log: list[dict[str, Any]] = field(default_factory=list)
    samples_drawn: int = 0
    samples_cut: int = 0
    phase_seconds: dict[str, float] = field(default_factory=dict)
    stopped_at_margin: float | None = None  # DPO stopped early: its reward margin passed dpo_stop_margin


def planned_cost(config: TrainingConfig, training: TrainingSet) -> float:
    """The run's work in cost units (the clock's total): SFT's steps, every round's samples and their scoring,
    DPO's steps."""
    c, mean_length = config, training.mean_length
    sft = c.sft_max_steps * min(c.sft_batch_size, len(training.examples)) * mean_length * COST_TRAIN_TOKEN
    mean_cap = sum(training.caps) / len(training.caps)
    per_sample = mean_cap * SAMPLED_SHARE * COST_GENERATED_TOKEN + (mean_length + mean_cap) * COST_SCORED_TOKEN
    sampling = c.n_rounds * training.n_demos * c.n_samples * per_sample
    dpo = c.dpo_steps * 2 * c.dpo_batch_size * mean_length * COST_TRAIN_TOKEN
    return sft + sampling + dpo


class RunReport:
    """One run's progress events (stamped by a clock that knows the planned work) and its statistics."""

    def __init__(self, progress: ProgressCallback, total_cost: float) -> None:
        self.progress = progress
        self.clock = ProgressClock(total_cost)
        self.stats = RunStats()

    def emit(self, phase: Phase, message: str, step: int = 0, total: int = 0, **metrics: Any) -> None:
        drawn = self.stats.samples_drawn
        self.progress(self.clock.event(phase, message, step=step, total=total, samples_drawn=drawn, **metrics))

    @contextmanager
    def timed(self, phase: Phase) -> Iterator[None]:
        """Add the time the block takes to ``phase``'s total."""
        start = time.monotonic()
        try:
            yield
        finally:
            seconds = self.stats.phase_seconds
            seconds[phase] = seconds.get(phase, 0.0) + time.monotonic() - start

    def finish(self, message: str) -> None:
        self.clock.advance(self.clock.total_units)
        self.emit(Phase.DONE, message)
