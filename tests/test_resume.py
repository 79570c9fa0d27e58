"""A learning that stopped continues from its last checkpoint, to the same style as one that never stopped."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ditto_desk.core.importing.files import import_paths
from ditto_desk.core.jobs import train_profile
from ditto_desk.core.models.loading import load_model
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.progress import Cancelled, CancelToken, ProgressEvent
from ditto_desk.core.training.adapters import POLICY_ADAPTER, REFERENCE_ADAPTER, adapter_weights
from ditto_desk.core.training.checkpoint import CHECKPOINT_DIR, Checkpoints, LearningKey, kept_learning
from ditto_desk.core.training.engine import DittoRun


def learned(run: DittoRun) -> dict[str, dict[str, torch.Tensor]]:
    model = run.run()
    return {a: adapter_weights(model, a) for a in (POLICY_ADAPTER, REFERENCE_ADAPTER)}


def stopped_in_round(settings, demos, config, checkpoints: Checkpoints, stop_round: int) -> None:
    cancel = CancelToken()

    def stop(event: ProgressEvent) -> None:
        if event.phase == "sample" and event.message.startswith(f"Round {stop_round} "):
            cancel.cancel()

    with pytest.raises(Cancelled):
        DittoRun(load_model(settings), demos, config, stop, cancel, checkpoints).run()


def test_a_stopped_learning_continues_to_the_style_an_unbroken_one_learns(
    tiny_settings, tiny_config, sample_demos, tmp_path: Path
) -> None:
    unbroken_run = DittoRun(load_model(tiny_settings), sample_demos, tiny_config)  # two rounds of one DPO step
    unbroken = learned(unbroken_run)

    checkpoints = Checkpoints(tmp_path / CHECKPOINT_DIR, LearningKey.of(sample_demos, tiny_config, "tiny"))
    stopped_in_round(tiny_settings, sample_demos, tiny_config, checkpoints, 2)  # SFT and round 1 are kept
    assert kept_learning(tmp_path) == "SFT and 1 of 2 rounds"
    assert checkpoints.exists()
    events: list[ProgressEvent] = []
    resumed_run = DittoRun(load_model(tiny_settings), sample_demos, tiny_config, events.append, None, checkpoints)
    resumed = learned(resumed_run)

    assert resumed_run.resumed == "SFT and 1 of 2 rounds"
    assert any(e.message == "Continuing the stopped learning (SFT and 1 of 2 rounds already done)…" for e in events)
    assert not any(e.phase == "sft" for e in events)  # SFT was not run again
    for adapter, weights in unbroken.items():  # bit for bit: the same seed, the same states
        for name, tensor in weights.items():
            assert torch.equal(resumed[adapter][name], tensor), (adapter, name)
    losses = [(e["phase"], e.get("loss")) for e in unbroken_run.stats.log]
    assert [(e["phase"], e.get("loss")) for e in resumed_run.stats.log] == losses  # the whole log, as if unbroken


def test_the_same_files_imported_again_are_the_same_learning(tiny_config) -> None:
    samples = sorted((Path(__file__).resolve().parents[1] / "resources" / "samples").iterdir())
    first, again = (import_paths(samples).demonstrations for _ in range(2))
    assert [d.id for d in first] != [d.id for d in again]  # each import names its texts anew
    assert LearningKey.of(first, tiny_config, "m") == LearningKey.of(again, tiny_config, "m")


def test_other_texts_or_settings_start_afresh_and_say_why(tiny_settings, tiny_config, sample_demos, tmp_path) -> None:
    folder = tmp_path / "checkpoint"
    key = LearningKey.of(sample_demos, tiny_config, "tiny")
    stopped_in_round(tiny_settings, sample_demos, tiny_config, Checkpoints(folder, key), 1)
    other_settings = tiny_config.with_overrides(beta=0.2)
    assert Checkpoints(folder, LearningKey.of(sample_demos, other_settings, "tiny")).load() == (
        None,
        "the learning settings changed since it stopped",
    )
    assert Checkpoints(folder, LearningKey.of(sample_demos, tiny_config, "other")).load()[1] == (
        "the model is not the one the stopped learning used"
    )
    events: list[ProgressEvent] = []
    fewer = sample_demos[:2]
    run = DittoRun(
        load_model(tiny_settings),
        fewer,
        tiny_config,
        events.append,
        None,
        Checkpoints(folder, LearningKey.of(fewer, tiny_config, "tiny")),
    )
    run.run()
    why = "the texts changed since the learning stopped"
    assert run.fresh_because == why and not run.resumed
    assert any(e.message == f"Starting afresh: {why}." for e in events)
    assert any(e.phase == "sft" for e in events)


def test_a_profile_keeps_its_stopped_learning_until_the_next_one_commits(
    tiny_settings, tiny_config, sample_demos
) -> None:
    store = ProfileStore()
    store.create("me").save_demonstrations(sample_demos[:2])
    cancel = CancelToken()

    def stop(event: ProgressEvent) -> None:
        if event.phase == "sample" and event.message.startswith("Round 2 "):
            cancel.cancel()

    with pytest.raises(Cancelled):
        train_profile(store, "me", tiny_settings, tiny_config, stop, cancel)
    stopped = store.load("me")
    assert not stopped.has_adapter and len(stopped.demonstrations) == 2  # nothing learned, nothing lost
    assert kept_learning(stopped.path) == "SFT and 1 of 2 rounds"

    summary = train_profile(store, "me", tiny_settings, tiny_config)
    assert summary.resumed == "SFT and 1 of 2 rounds"
    learned = store.load("me")
    assert learned.has_adapter and kept_learning(learned.path) is None
    assert not (learned.path / CHECKPOINT_DIR).exists()  # removed once the learning committed
    assert train_profile(store, "me", tiny_settings, tiny_config).resumed == ""  # the next learning starts afresh


def test_a_damaged_checkpoint_starts_afresh_saying_so(tiny_config, sample_demos, tmp_path: Path) -> None:
    from ditto_desk.core.training.checkpoint import Checkpoint

    checkpoints = Checkpoints(tmp_path / CHECKPOINT_DIR, LearningKey.of(sample_demos, tiny_config, "tiny"))
    assert checkpoints.save(Checkpoint(1, {"policy/w": torch.zeros(2), "torch_rng": torch.get_rng_state()}), 2)
    kept, why = checkpoints.load()  # written whole, but missing what a round needs
    assert kept is None and why.startswith("the stopped learning's checkpoint could not be read")
    (tmp_path / CHECKPOINT_DIR / "tensors.safetensors").write_bytes(b"\x00" * 64)  # and with damaged tensors
    assert checkpoints.load()[0] is None
