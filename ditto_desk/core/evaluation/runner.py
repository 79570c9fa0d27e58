"""``ditto-desk eval``: train each author once, run the four methods on the held-out prompts, judge.

Per author: the base-model cells (zero-shot, few-shot) first, then one DITTO training whose frozen
"sft" adapter is exactly the SFT model and whose policy is DITTO. Every finished cell and every
training is saved into OUTDIR at once, so a crash loses at most the cell in progress.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ditto_desk.core.errors import UsageError
from ditto_desk.core.evaluation.corpus import AuthorSplit, load_corpus, split_corpus, text_digest
from ditto_desk.core.evaluation.methods import (
    FEW_SHOT_BUDGET,
    METHODS,
    TRAINED,
    Decoding,
    few_shot_prompt,
    generate,
    method_model,
    plain_prompt,
    reference_logliks,
)
from ditto_desk.core.evaluation.report import EvalReport, build_report, write_report
from ditto_desk.core.evaluation.store import ResultStore, fingerprint
from ditto_desk.core.models.decoding import adapter_strength
from ditto_desk.core.models.loading import LoadedModel, load_model
from ditto_desk.core.models.settings import ModelSettings
from ditto_desk.core.progress import CancelToken, Phase, ProgressCallback, ProgressClock, ProgressEvent, ignore_progress
from ditto_desk.core.texts.replies import demonstration_request
from ditto_desk.core.training.config import DEFAULT_PRESET, TrainingConfig, preset
from ditto_desk.core.training.engine import DittoRun
from ditto_desk.core.training.sampling import seed_for
from ditto_desk.core.writing.length import EASE_RATE, FLOOR, ROOM

# How drafts are bounded and penalised (writing/length.py, models/decoding.py's decoding_arguments): part of every
# result's fingerprint, so that drafts written under other rules are never reused.
DRAFT_RULES = {
    "room": ROOM,
    "floor": FLOOR,
    "repetition_penalty_counts": "the draft's own tokens",
    "ease": f"from the median text, {EASE_RATE} a token",
}

# Relative cost of the work, to spread the progress bar (measured roughly on 2 CPU cores).
_TRAIN_UNITS, _CELL_UNITS = 6.0, {"zero-shot": 1.0, "few-shot": 1.6, "sft": 1.0, "ditto": 1.0}


@dataclass(frozen=True)
class EvalOptions:
    corpus: Path
    out: Path
    k: int = 4
    preset: str = DEFAULT_PRESET
    overrides: Mapping[str, Any] = field(default_factory=dict)
    samples_per_prompt: int = 2
    seed: int = 0  # the split and the sampling; training keeps the config's seed (--set seed=N)
    model: ModelSettings = field(default_factory=ModelSettings)
    decoding: Decoding = field(default_factory=Decoding)
    few_shot_budget: int = FEW_SHOT_BUDGET
    # Judge the adapters an evaluation in this folder trained (an earlier commit's, say) instead of training:
    # two engines compared by the same evaluation code.
    adapters_from: Path | None = None
    # Replies answer the message they reply to: it is part of every request, in training and for every method.
    replies: bool = False

    @property
    def config(self) -> TrainingConfig:
        return preset(self.preset).with_overrides(**dict(self.overrides))


@dataclass
class EvalRun:
    report: EvalReport
    paths: dict[str, Path]
    trainings: int = 0
    cells_computed: int = 0
    cells_reused: int = 0
    seconds: float = 0.0
    refused: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _AuthorPlan:
    split: AuthorSplit
    train_key: str
    cell_keys: dict[str, str]
    pending: tuple[str, ...]


@dataclass(frozen=True)
class _Progress:
    """One progress bar over all the work (the core's clock): a training's or a cell's own progress fills its slice."""

    clock: ProgressClock
    progress: ProgressCallback

    def emit(self, phase: str, message: str, inner: float = 0.0, slice_units: float = 0.0, **extra: Any) -> None:
        self.progress(self.clock.event(phase, message, partial_units=inner * slice_units, **extra))

    def advance(self, units: float) -> None:
        self.clock.advance(units)


def run_evaluation(
    options: EvalOptions,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    load: Callable[[ModelSettings], LoadedModel] = load_model,
) -> EvalRun:
    start = time.monotonic()
    cancel = cancel or CancelToken()
    config = options.config
    if options.samples_per_prompt < 1:
        raise UsageError("--samples-per-prompt must be at least 1")
    authors, refused = load_corpus(options.corpus, replies=True)
    with_messages = split_corpus(authors, options.k, options.seed)
    # Without --replies every method is asked today's requests, but the drafts are still measured against the
    # message each held-out reply answers: what the context adds is then read off two runs' reports.
    splits = with_messages if options.replies else [s.without_messages() for s in with_messages]
    messages = {s.author: [d.context for d in s.held_out] for s in with_messages}
    store = ResultStore(options.out)
    plans = [_plan(split, options, config, store) for split in splits]
    result = EvalRun(report=EvalReport({}), paths={}, refused=[f"{r.source}: {r.reason}" for r in refused])
    result.cells_reused = sum(len(METHODS) - len(p.pending) for p in plans)
    total = sum(
        sum(_CELL_UNITS[m] for m in p.pending)
        + (_TRAIN_UNITS if TRAINED & set(p.pending) and not _trained(p, options, store) else 0)
        for p in plans
    )
    clock = _Progress(ProgressClock(total), progress)
    for plan in plans:
        if plan.pending:
            _run_author(plan, options, config, store, clock, cancel, result, load)
    clock.emit(Phase.REPORT, "Judging and writing the report…", 1.0)
    setup = _setup(options, config, splits)
    report = build_report(
        setup, splits, store, {p.split.author: p.cell_keys for p in plans}, _trainings(options, store), messages
    )
    result.report = report
    result.paths = write_report(report, options.out)
    result.seconds = time.monotonic() - start
    clock.emit(Phase.DONE, "Evaluation finished", 1.0)
    return result


def _trainings(options: EvalOptions, store: ResultStore) -> ResultStore:
    """Where the adapters to judge are: this run's folder, or the one --adapters-from names."""
    return ResultStore(options.adapters_from) if options.adapters_from is not None else store


def _trained(plan: _AuthorPlan, options: EvalOptions, store: ResultStore) -> bool:
    return options.adapters_from is not None or store.has_adapters(plan.split.author, plan.train_key)


def _plan(split: AuthorSplit, options: EvalOptions, config: TrainingConfig, store: ResultStore) -> _AuthorPlan:
    base = {
        "model": options.model.to_json(),
        "demonstrations": text_digest(split.demonstrations),
        "held_out": text_digest(split.held_out),
        "seed": options.seed,
        **({"replies": [d.context for d in (*split.demonstrations, *split.held_out)]} if options.replies else {}),
    }
    if options.adapters_from is None:
        train_key = fingerprint({**base, "config": config.to_json()})
    else:
        train_key = ResultStore(options.adapters_from).borrowed_training_key(split)
    cell_keys = {
        m: fingerprint(
            {
                **base,
                "method": m,
                "decoding": options.decoding.to_json(trained=m in TRAINED),
                "draft_rules": DRAFT_RULES,
                "samples": options.samples_per_prompt,
                "few_shot_budget": options.few_shot_budget if m == "few-shot" else None,
                "training": train_key if m in TRAINED else None,
            }
        )
        for m in METHODS
    }
    pending = tuple(m for m in METHODS if store.load_cell(split.author, m, cell_keys[m]) is None)
    return _AuthorPlan(split, train_key, cell_keys, pending)


def _setup(options: EvalOptions, config: TrainingConfig, splits: Sequence[AuthorSplit]) -> dict[str, Any]:
    """What was run, as the report records it."""
    return {
        "corpus": str(options.corpus),
        "k": options.k,
        "preset": options.preset,
        "overrides": dict(options.overrides),
        "config": config.to_json(),
        "samples_per_prompt": options.samples_per_prompt,
        "seed": options.seed,
        "model": options.model.to_json(),
        "decoding": options.decoding.to_json(),
        "few_shot_budget": options.few_shot_budget,
        "adapters_from": str(options.adapters_from) if options.adapters_from is not None else None,
        "replies": options.replies,
        "authors": [s.author for s in splits],
    }


def _run_author(
    plan: _AuthorPlan,
    options: EvalOptions,
    config: TrainingConfig,
    store: ResultStore,
    clock: _Progress,
    cancel: CancelToken,
    result: EvalRun,
    load: Callable[[ModelSettings], LoadedModel],
) -> None:
    author = plan.split.author
    clock.emit(Phase.LOAD, f"[{author}] loading the model…")
    loaded = load(options.model)  # a fresh base model per author: training adds LoRA layers in place
    model: Any = loaded.model
    for method in (m for m in plan.pending if m not in TRAINED):
        _run_cell(plan, method, model, loaded, options, store, clock, cancel)
        result.cells_computed += 1
    if TRAINED & set(plan.pending):
        trained = _trainings(options, store)
        if trained.has_adapters(author, plan.train_key):
            model = trained.load_adapters(author, loaded.model)
        else:
            model = _train(plan, loaded, config, store, clock, cancel)
            result.trainings += 1
        for method in (m for m in plan.pending if m in TRAINED):
            _run_cell(plan, method, model, loaded, options, store, clock, cancel)
            result.cells_computed += 1
    del model, loaded
    gc.collect()


def _train(
    plan: _AuthorPlan,
    loaded: LoadedModel,
    config: TrainingConfig,
    store: ResultStore,
    clock: _Progress,
    cancel: CancelToken,
) -> Any:
    author = plan.split.author

    def forward(event: ProgressEvent) -> None:
        clock.emit(
            event.phase,
            f"[{author}] {event.message}",
            event.fraction,
            _TRAIN_UNITS,
            loss=event.loss,
            reward_margin=event.reward_margin,
            reward_accuracy=event.reward_accuracy,
        )

    start = time.monotonic()
    run = DittoRun(loaded, plan.split.demonstrations, config, forward, cancel)
    model = run.run()
    log = {
        "author": author,
        "seconds": time.monotonic() - start,
        "config": config.to_json(),
        "phase_seconds": run.stats.phase_seconds,
        "samples_drawn": run.stats.samples_drawn,
        "samples_cut": run.stats.samples_cut,
        "log": run.stats.log,
        # The negatives DPO saw: what the policy wrote, round by round, for the first demonstration.
        "samples_first_demo": [
            [loaded.tokenizer.decode(s.ids, skip_special_tokens=True) for s in round_samples.get(0, [])]
            for round_samples in run.pool.rounds
        ],
    }
    store.save_adapters(author, plan.train_key, model, loaded.name, log)
    clock.advance(_TRAIN_UNITS)
    return model


def _run_cell(
    plan: _AuthorPlan,
    method: str,
    model: Any,
    loaded: LoadedModel,
    options: EvalOptions,
    store: ResultStore,
    clock: _Progress,
    cancel: CancelToken,
) -> None:
    author, split, tokenizer = plan.split.author, plan.split, loaded.tokenizer
    start = time.monotonic()
    requests = [demonstration_request(tokenizer, d) for d in split.held_out]
    references = [d.text for d in split.held_out]
    demonstration_tokens = [len(tokenizer(d.text, add_special_tokens=False)["input_ids"]) for d in split.demonstrations]
    length = options.decoding.length(demonstration_tokens)
    plain = [plain_prompt(tokenizer, r) for r in requests]
    if method == "few-shot":
        # Room for the longest answer inside the model's window, whatever the budget asks.
        window = getattr(getattr(model, "config", None), "max_position_embeddings", 8192)
        budget = min(options.few_shot_budget, window - length.cap)
        prompts = [few_shot_prompt(tokenizer, split.demonstrations, r, budget) for r in requests]
    else:
        prompts = plain
    units = _CELL_UNITS[method]
    message = f"[{author}] {method}: writing {len(requests)} × {options.samples_per_prompt} texts"
    clock.emit(Phase.GENERATE, message)

    def on_batch(done: int, total: int) -> None:
        clock.emit(Phase.GENERATE, message, 0.9 * done / total, units)

    strength = options.decoding.style_strength if method in TRAINED else 1.0
    with method_model(model, method) as active, loaded.autocast(), adapter_strength(active, strength):
        texts, ended, tokens = generate(
            active,
            tokenizer,
            prompts,
            length,
            options.samples_per_prompt,
            options.decoding,
            seed_for(options.seed, author),  # the same seeds for every method: only the model differs
            on_batch,
            cancel,
        )
        clock.emit(Phase.SCORE, f"[{author}] {method}: scoring the held-out texts", 0.9, units)
        logliks = reference_logliks(active, tokenizer, prompts, references)
    # Fluency: every draft's likelihood under the base model, after the plain request (the same for all methods).
    with method_model(model, "zero-shot") as base, loaded.autocast():
        drafts = [(plain[i], t) for i, per_prompt in enumerate(texts) for t in per_prompt]
        fluency = reference_logliks(base, tokenizer, [p for p, _ in drafts], [t for _, t in drafts])
    cell = {
        "author": author,
        "method": method,
        "requests": requests,
        "prompt_tokens": [len(p) for p in prompts],
        "caps": [length.cap] * len(requests),
        "floor": length.floor,
        "generations": texts,
        "ended": ended,
        "tokens": tokens,
        "loglik": [{"sum": s, "tokens": n} for s, n in logliks],
        "fluency": [{"sum": s, "tokens": n} for s, n in fluency],
        "seconds": time.monotonic() - start,
    }
    store.save_cell(author, method, plan.cell_keys[method], cell)
    clock.advance(units)
