"""The DITTO engine on a tiny random model: reference, cancel, isolation, saved adapter."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
from peft import PeftModel, get_peft_model_state_dict

from ditto_desk.core.errors import InputError
from ditto_desk.core.jobs import train_profile
from ditto_desk.core.models.loading import load_model
from ditto_desk.core.models.scoring import response_logprobs
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.progress import Cancelled, CancelToken, ProgressEvent
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.training.adapters import POLICY_ADAPTER, REFERENCE_ADAPTER, adapter_weights
from ditto_desk.core.training.checkpoint import CHECKPOINT_DIR, kept_learning
from ditto_desk.core.training.engine import DittoRun
from ditto_desk.core.training.pairs import SamplePool
from ditto_desk.core.training.sampling import Sample


def all_samples(pool: SamplePool) -> list[Sample]:
    return [s for by_example in pool.rounds for samples in by_example.values() for s in samples]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_reference_is_the_frozen_sft_model(tiny_settings, tiny_config, sample_demos) -> None:
    sft_weights: dict[str, torch.Tensor] = {}

    def capture_sft(event: ProgressEvent) -> None:
        if event.phase == "sample" and not sft_weights:  # SFT is over, DPO has not begun
            state = get_peft_model_state_dict(run.model, adapter_name=POLICY_ADAPTER)
            sft_weights.update({k: v.clone() for k, v in state.items()})

    run = DittoRun(load_model(tiny_settings), sample_demos, tiny_config, capture_sft)
    model = run.run()
    reference = get_peft_model_state_dict(model, adapter_name=REFERENCE_ADAPTER)
    policy = get_peft_model_state_dict(model, adapter_name=POLICY_ADAPTER)
    assert sft_weights and reference.keys() == sft_weights.keys()
    assert all(torch.equal(reference[k], sft_weights[k]) for k in sft_weights), "the reference moved"
    assert any(not torch.equal(policy[k], sft_weights[k]) for k in sft_weights), "the policy did not train"

    # Every cached reference log-prob is the SFT model's, computed once, and still true after training.
    from ditto_desk.core.models.chat import Encoded

    keys = list(run.reference.scores)
    assert len(keys) == len(set(keys)) >= len(sample_demos)
    model.set_adapter(REFERENCE_ADAPTER)
    again = response_logprobs(model, [Encoded(run.training.prompts[d], r) for d, r in keys], run.tokenizer.pad_token_id)
    model.set_adapter(POLICY_ADAPTER)
    for key, (logp, _) in zip(keys, again, strict=True):
        assert sum(run.reference.scores[key]) == pytest.approx(logp, abs=1e-3)


def test_every_rounds_samples_are_kept(tiny_settings, tiny_config, sample_demos) -> None:
    run = DittoRun(load_model(tiny_settings), sample_demos, tiny_config)
    run.run()
    assert len(run.pool.rounds) == tiny_config.n_rounds == 2
    # n_samples per demonstration and round, spread over a long text's segments (max_length 128 splits them).
    assert len(run.training.examples) > len(sample_demos)
    for round_samples in run.pool.rounds:
        for d in range(len(sample_demos)):
            parts = [i for i, e in enumerate(run.training.examples) if e.demo_index == d]
            assert sum(len(round_samples[i]) for i in parts) == tiny_config.n_samples
    assert run.stats.samples_drawn == 2 * len(sample_demos) * tiny_config.n_samples
    dpo = [e for e in run.stats.log if e["phase"] == "dpo"]
    assert [e["step"] for e in dpo] == [1, 2]
    assert all(e["reward_margin"] is not None for e in dpo)
    # Each step records the kinds of pairs it trained on; the first round has only expert pairs.
    assert dpo[0]["pairs"] == {"expert": 3, "replay": 0, "inter_model": 0}
    assert sum(dpo[1]["pairs"].values()) == 3 and dpo[1]["pairs"]["expert"] >= 2


def test_two_trainings_in_one_process_share_nothing(tiny_settings, tiny_config) -> None:
    first_demos = [Demonstration("alpha beta gamma delta epsilon", "Write it", id="a")]
    second_demos = [Demonstration("one two three four five six", "Write it", id="b")] * 2
    first = DittoRun(load_model(tiny_settings), first_demos, tiny_config)
    first.run()
    second = DittoRun(load_model(tiny_settings), second_demos, tiny_config)
    second.run()
    first_samples = {s.ids for s in all_samples(first.pool)}
    assert second.pool.n_examples == 2 and first.pool.n_examples == 1
    # Same prompt twice in the second run: two demonstrations, two sample sets, no cache keyed by prompt.
    assert [e.demo_index for e in second.training.examples] == [0, 1]
    assert all(len(second.pool.rounds[0][d]) == tiny_config.n_samples for d in (0, 1))
    assert {d for d, _ in second.reference.scores} == {0, 1}
    assert set(first.reference.scores).isdisjoint(second.reference.scores) or first_samples != {
        s.ids for s in all_samples(second.pool)
    }


def _trained_store(tiny_settings, tiny_config, demos) -> ProfileStore:
    store = ProfileStore()
    store.create("me").save_demonstrations(demos)
    train_profile(store, "me", tiny_settings, tiny_config)
    return store


@pytest.mark.parametrize("phase", ["sft", "sample", "dpo"])
def test_cancel_leaves_the_saved_profile_exactly_as_it_was(phase, tiny_settings, tiny_config, sample_demos) -> None:
    store = _trained_store(tiny_settings, tiny_config, sample_demos)
    before = snapshot(store.root / "me")
    cancel = CancelToken()
    cancelled_at: list[float] = []

    def cancel_in_phase(event: ProgressEvent) -> None:
        if event.phase == phase and not cancel.cancelled:
            cancel.cancel()
            cancelled_at.append(time.monotonic())

    with pytest.raises(Cancelled):
        train_profile(store, "me", tiny_settings, tiny_config, cancel_in_phase, cancel)
    assert cancelled_at and time.monotonic() - cancelled_at[0] < 5
    after = snapshot(store.root / "me")
    kept = {name for name in after if name.startswith(CHECKPOINT_DIR + "/")}
    assert {k: v for k, v in after.items() if k not in kept} == before  # the profile itself is as it was
    assert store.load("me").has_adapter
    # Beside it, what a learning run again continues from: nothing before SFT is over, SFT's result after.
    assert kept_learning(store.root / "me") == (None if phase == "sft" else "SFT")


def test_saved_adapter_is_a_standard_peft_folder(tiny_settings, tiny_config, sample_demos) -> None:
    store = _trained_store(tiny_settings, tiny_config, sample_demos)
    profile = store.load("me")
    folder = profile.active_adapter_dir
    assert {"adapter_model.safetensors", "adapter_config.json"} <= {p.name for p in folder.iterdir()}
    base = load_model(tiny_settings).model
    model = PeftModel.from_pretrained(base, str(folder))
    assert any("lora_A" in name for name, _ in model.named_parameters())
    summary = profile.training_log[0]
    assert summary["phase"] == "summary" and summary["demonstrations"] == len(sample_demos)


def test_training_without_demonstrations_says_what_to_do(tiny_settings, tiny_config) -> None:
    store = ProfileStore()
    store.create("empty")
    with pytest.raises(InputError, match="no demonstrations"):
        train_profile(store, "empty", tiny_settings, tiny_config)


@pytest.mark.parametrize("quantization", ["none", "nf4", "bf16"])
def test_the_saved_adapter_writes_exactly_like_the_trained_policy(
    quantization, tiny_settings, tiny_config, sample_demos, tmp_path
) -> None:
    """What training learned shows in inference and survives saving and reloading (NF4 on the CPU included:
    bitsandbytes' AVX512-BF16 repacking used to hide it, then corrupt the weights on save; under bf16, autocast's
    weight cache used to keep the untrained adapter for the whole run)."""
    from dataclasses import replace

    from model_helpers import mean_token_loglik

    from ditto_desk.core.writing.writer import Writer

    settings = replace(tiny_settings, quantization=quantization, device="cpu")
    loaded = load_model(settings)
    pad = loaded.tokenizer.pad_token_id
    run = DittoRun(
        loaded, sample_demos, tiny_config.with_overrides(sft_max_steps=4, sft_learning_rate=1e-2, max_length=384)
    )
    examples = [e.encoded for e in run.training.examples]
    with loaded.autocast():
        base = mean_token_loglik(loaded.model, examples, pad)  # an eval-mode pass first, as the app does
    model = run.run()
    with loaded.autocast():
        policy = mean_token_loglik(model, examples, pad)
    run.write_adapter(tmp_path)
    writer = Writer(load_model(settings))
    writer.use_adapter(tmp_path)
    assert policy > base + 0.05, "training did not show in inference mode"
    with loaded.autocast():
        assert mean_token_loglik(writer.model, examples, pad) == pytest.approx(policy, abs=1e-3)
        assert mean_token_loglik(model, examples, pad) == pytest.approx(policy, abs=1e-4), "saving changed it"


@pytest.mark.parametrize(
    ("quantization", "tolerance", "ld_alpha"), [("none", 1e-4, None), ("bf16", 2e-3, None), ("none", 1e-4, 0.5)]
)
def test_the_first_dpo_step_starts_from_the_reference(
    quantization, tolerance, ld_alpha, tiny_settings, tiny_config, sample_demos
) -> None:
    """Before any DPO update the policy is the SFT model: trl's log-probs of every pair must equal the cached
    reference, so the first step's reward margin is 0 and its loss log(2). Under bf16 the sums differ by
    rounding only; while autocast cached the untrained adapter, the margin was -4 on the bundled model. With
    LD-DPO the reference's tails are weighted per pair exactly as trl weighs the policy's."""
    from dataclasses import replace

    loaded = load_model(replace(tiny_settings, quantization=quantization, device="cpu"))
    config = tiny_config.with_overrides(dpo_steps=1, sft_learning_rate=1e-2, rpo_alpha=0.0, ld_alpha=ld_alpha)
    run = DittoRun(loaded, sample_demos, config)
    run.run()
    first = next(e for e in run.stats.log if e["phase"] == "dpo")
    assert first["reward_margin"] == pytest.approx(0.0, abs=tolerance)
    assert first["loss"] == pytest.approx(0.693147, abs=tolerance)


def test_the_quick_preset_adds_the_chosen_texts_likelihood_to_dpo(tiny_settings, tiny_config, sample_demos) -> None:
    """quick's rpo_alpha: the first DPO step's loss is log(2) plus the chosen texts' mean token NLL (about 10
    nats on the random tiny model), so DPO cannot push the user's own texts down unchecked."""
    assert tiny_config.rpo_alpha == 1.0
    run = DittoRun(load_model(tiny_settings), sample_demos, tiny_config.with_overrides(dpo_steps=1))
    run.run()
    first = next(e for e in run.stats.log if e["phase"] == "dpo")
    assert first["reward_margin"] == pytest.approx(0.0, abs=1e-4)
    assert first["loss"] > 0.693147 + 5.0


def test_dpo_stops_once_its_margin_passes_the_limit_and_draws_no_more(tiny_settings, tiny_config, sample_demos) -> None:
    config = tiny_config.with_overrides(dpo_stop_margin=-1.0)  # any first margin (0: policy = reference) passes it
    run = DittoRun(load_model(tiny_settings), sample_demos, config)
    run.run()
    dpo = [e for e in run.stats.log if e["phase"] == "dpo"]
    assert [e["step"] for e in dpo] == [1]  # of 2
    assert run.stats.stopped_at_margin == dpo[0]["reward_margin"]
    assert len(run.pool.rounds) == 1  # the second round's samples were never drawn
    # The first margin is measured on SFT's policy: that is the last one within the limit, and it is kept.
    policy, sft = adapter_weights(run.model, POLICY_ADAPTER), adapter_weights(run.model, REFERENCE_ADAPTER)
    assert policy.keys() == sft.keys() and all(torch.equal(policy[k], sft[k]) for k in policy)
