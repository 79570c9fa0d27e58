"""The model picker's figures: sizes from each model's shape, the memory learning takes, whether it fits a given
machine, and how long a preset takes there, from a machine description (no torch, no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ditto_desk.core.models.catalog import CATALOG, CatalogModel, ModelShape
from ditto_desk.core.planning.estimates import (
    GB,
    SAMPLE_TEXT_TOKENS,
    Fit,
    catalog_estimates,
    describe_estimate,
    estimate,
    fit_of,
    format_rough_duration,
    trained_layers,
    training_memory,
    training_seconds,
    workload,
)
from ditto_desk.core.planning.machine import Machine, Speed
from ditto_desk.core.training.config import preset

QUICK = preset("quick")
# Two CPU cores as the speed probe (planning/machine.py) measured them: forward and sampling FLOP/s.
TWO_CORES = Speed(forward_flops=5.5e11, decode_flops=1.3e11)
LAPTOP = Machine("cpu", 12 * GB, TWO_CORES)

# Parameter counts the model cards give.
PUBLISHED_PARAMS = {
    "HuggingFaceTB/SmolLM2-135M-Instruct": 135e6,
    "HuggingFaceTB/SmolLM2-360M-Instruct": 362e6,
    "HuggingFaceTB/SmolLM2-1.7B-Instruct": 1.71e9,
    "Qwen/Qwen2.5-0.5B-Instruct": 0.49e9,
    "Qwen/Qwen2.5-1.5B-Instruct": 1.54e9,
    "Qwen/Qwen3-0.6B": 0.6e9,
    "Qwen/Qwen3-1.7B": 1.7e9,
    "meta-llama/Llama-3.2-1B-Instruct": 1.24e9,
    "meta-llama/Llama-3.2-3B-Instruct": 3.21e9,
    "google/gemma-3-1b-it": 1.0e9,
}


def catalog_entry(repo_id: str) -> CatalogModel:
    return next(m for m in CATALOG if m.repo_id == repo_id)


BUNDLED_SHAPE = catalog_entry("HuggingFaceTB/SmolLM2-135M-Instruct").shape


@pytest.mark.parametrize("repo_id", sorted(PUBLISHED_PARAMS))
def test_each_catalog_shape_gives_the_parameter_count_its_model_card_gives(repo_id: str) -> None:
    model = catalog_entry(repo_id)
    assert model is not None
    assert model.shape.params == pytest.approx(PUBLISHED_PARAMS[repo_id], rel=0.04)
    assert model.download_bytes == model.shape.params * 2  # bf16, as each repository stores it


def test_the_catalog_lists_each_model_once_and_says_which_are_gated() -> None:
    ids = [m.repo_id for m in CATALOG]
    assert len(ids) == len(set(ids)) == len(PUBLISHED_PARAMS)
    assert {m.repo_id for m in CATALOG if m.gated} == {
        "meta-llama/Llama-3.2-1B-Instruct",
        "meta-llama/Llama-3.2-3B-Instruct",
        "google/gemma-3-1b-it",
    }


def test_the_bundled_models_shape_read_from_its_config_is_the_catalogs(bundled_model_dir: Path) -> None:
    config = json.loads((bundled_model_dir / "config.json").read_text())
    assert ModelShape.from_config(config) == BUNDLED_SHAPE


def test_a_model_that_fits_on_a_laptop_is_too_big_for_a_small_gpu() -> None:
    qwen_15b = catalog_entry("Qwen/Qwen2.5-1.5B-Instruct")
    assert qwen_15b is not None
    on_laptop = estimate(qwen_15b.shape, "bf16", LAPTOP, QUICK, SAMPLE_TEXT_TOKENS)
    assert on_laptop.fit == Fit.FITS
    small_gpu = Machine("cuda", 2 * GB, None)
    in_bf16 = estimate(qwen_15b.shape, "bf16", small_gpu, QUICK, SAMPLE_TEXT_TOKENS)
    in_nf4 = estimate(qwen_15b.shape, "nf4", small_gpu, QUICK, SAMPLE_TEXT_TOKENS)
    assert in_bf16.fit == Fit.TOO_BIG
    assert in_nf4.memory_bytes < in_bf16.memory_bytes - 1.5 * GB  # 4-bit layers; the embeddings stay 16-bit
    assert in_nf4.seconds is None  # no measured speed: no time is promised


def test_the_fit_label_leaves_room_for_other_programs() -> None:
    assert fit_of(8 * GB, 10 * GB) == Fit.FITS
    assert fit_of(9 * GB, 10 * GB) == Fit.TIGHT
    assert fit_of(11 * GB, 10 * GB) == Fit.TOO_BIG


def test_a_bigger_model_and_longer_texts_take_longer_and_more_memory() -> None:
    rows = dict(catalog_estimates(LAPTOP, "bf16", QUICK, SAMPLE_TEXT_TOKENS))
    small = rows[catalog_entry("HuggingFaceTB/SmolLM2-135M-Instruct")]
    large = rows[catalog_entry("Qwen/Qwen2.5-1.5B-Instruct")]
    assert small.seconds is not None and large.seconds is not None
    assert large.seconds > 5 * small.seconds
    assert large.memory_bytes > small.memory_bytes + GB
    twice_as_many = estimate(BUNDLED_SHAPE, "bf16", LAPTOP, QUICK, SAMPLE_TEXT_TOKENS * 2)
    # SFT and DPO take as many steps with more texts; sampling and scoring grow.
    assert twice_as_many.seconds is not None and twice_as_many.seconds > 1.15 * small.seconds


def test_the_workload_follows_the_engine_segments_caps_and_pairs() -> None:
    long = workload(QUICK, [760])  # four segments of 190 tokens (quick: segment_tokens 192)
    assert long.train_tokens == QUICK.sft_max_steps * 4 * (45 + 190)  # 4 examples a step, each with its request
    # Only the last segment may run past its own length: a 760-token text samples 4 x 190 (+10 %), not 4 x 836.
    assert long.scored_tokens < 4.6 * workload(QUICK, [190]).scored_tokens
    no_checkpoint = QUICK.with_overrides(dpo_gradient_checkpointing=False)
    assert (
        estimate(BUNDLED_SHAPE, "bf16", LAPTOP, no_checkpoint, [150]).memory_bytes
        > estimate(BUNDLED_SHAPE, "bf16", LAPTOP, QUICK, [150]).memory_bytes
    )


def test_estimates_are_said_as_a_person_would_say_them() -> None:
    assert format_rough_duration(42) == "40 s"
    assert format_rough_duration(200) == "3 min"
    assert format_rough_duration(80 * 60) == "80 min"
    assert format_rough_duration(100 * 60) == "1 h 40 min"
    text = describe_estimate(estimate(BUNDLED_SHAPE, "bf16", LAPTOP, QUICK, SAMPLE_TEXT_TOKENS))
    assert text.startswith(tuple(f"{n}." for n in range(1, 4))) and "GB, fits · about" in text


def test_what_must_give_way_for_training_to_fit_gives_way_and_nothing_else() -> None:
    from ditto_desk.core.planning.estimates import fitted_to_memory

    qwen = catalog_entry("Qwen/Qwen2.5-1.5B-Instruct")
    assert qwen is not None
    assert fitted_to_memory(QUICK, BUNDLED_SHAPE, "bf16", LAPTOP, SAMPLE_TEXT_TOKENS) == QUICK  # fits as it is
    kept = QUICK.with_overrides(dpo_gradient_checkpointing=False)
    needed = estimate(qwen.shape, "bf16", LAPTOP, kept, [700]).memory_bytes
    tight = Machine("cpu", int(needed * 0.95), TWO_CORES)
    fitted = fitted_to_memory(kept, qwen.shape, "bf16", tight, [700])
    assert fitted.dpo_gradient_checkpointing  # recomputing activations is the first thing to give way
    assert estimate(qwen.shape, "bf16", tight, fitted, [700]).memory_bytes < needed
    squeezed = fitted_to_memory(QUICK, qwen.shape, "bf16", Machine("cpu", int(3.4 * GB)), [700])
    assert squeezed.segment_tokens < QUICK.segment_tokens  # then shorter segments
    roomy_gpu = fitted_to_memory(QUICK, qwen.shape, "nf4", Machine("cuda", 40 * GB), [700])
    assert not roomy_gpu.dpo_gradient_checkpointing  # a GPU with room keeps activations: faster


def test_training_the_top_layers_only_is_estimated_faster_and_the_default_is_unchanged() -> None:
    """With LoRA on the top layers, training's passes skip the frozen trunk (computed once per token)."""
    whole = workload(QUICK, SAMPLE_TEXT_TOKENS)
    assert trained_layers(BUNDLED_SHAPE, QUICK) == BUNDLED_SHAPE.layers
    top = QUICK.with_overrides(lora_layers=10)
    assert trained_layers(BUNDLED_SHAPE, top) == 10
    assert trained_layers(BUNDLED_SHAPE, QUICK.with_overrides(lora_layers=99)) == BUNDLED_SHAPE.layers
    speed = LAPTOP.speed
    assert speed is not None
    full_s = training_seconds(BUNDLED_SHAPE, speed, QUICK, whole)
    top_s = training_seconds(BUNDLED_SHAPE, speed, top, workload(top, SAMPLE_TEXT_TOKENS))
    # Sampling, the output layer and the trunk itself remain: 0.63 and 0.66 of the time were measured on the
    # samples with 10 layers on two machines (benchmarks/levers.md).
    assert 0.55 * full_s < top_s < 0.75 * full_s
    full_bytes = training_memory(BUNDLED_SHAPE, "bf16", "cpu", QUICK, whole)
    assert training_memory(BUNDLED_SHAPE, "bf16", "cpu", top, workload(top, SAMPLE_TEXT_TOKENS)) <= full_bytes
