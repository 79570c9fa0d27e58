"""Teaching by editing: corrected drafts are kept, become pairs, and an update is a version like any other."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ditto_desk.core.errors import InputError
from ditto_desk.core.jobs import teach_profile, train_profile
from ditto_desk.core.profiles.adapter_folder import ADAPTER_WEIGHTS, REFERENCE_WEIGHTS
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.progress import Cancelled, CancelToken, ProgressEvent

EDITS = [
    ("Write an email about: the offsite", "Dear all, the offsite is on Friday.", "hey all — offsite's friday, snacks!"),
    ("Write an email about: the build", "The build is broken.", "heads up — build's red again, looking into it"),
]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def trained(tiny_settings, tiny_config, sample_demos) -> ProfileStore:
    store = ProfileStore()
    store.create("me").save_demonstrations(sample_demos[:2])
    train_profile(store, "me", tiny_settings, tiny_config)
    return store


def test_an_edit_that_changes_nothing_is_not_kept(trained) -> None:
    profile = trained.load("me")
    for edited in ("Dear all, the offsite is on Friday.", "  Dear all,\n the offsite   is on Friday. ", ""):
        with pytest.raises(InputError, match="same as the draft|change something"):
            profile.add_edit("Write an email about: x", "Dear all, the offsite is on Friday.", edited)
    assert profile.edits() == []
    profile.add_edit(*EDITS[0])
    assert [e.edited for e in trained.load("me").edits()] == [EDITS[0][2]]
    profile.add_edit(*EDITS[0])  # kept again after a cancelled update: still one edit waiting
    assert [e.edited for e in trained.load("me").edits()] == [EDITS[0][2]]


def test_an_update_trains_on_the_edits_and_keeps_the_sft_reference(trained, tiny_settings, tiny_config) -> None:
    profile = trained.load("me")
    before = profile.active_adapter_dir
    for edit in EDITS:
        profile.add_edit(*edit)
    assert len(profile.waiting_edits()) == 2

    summary = teach_profile(trained, "me", tiny_settings, tiny_config.with_overrides(teach_steps=2))

    profile = trained.load("me")
    assert summary.adapter_dir == profile.active_adapter_dir != before
    assert profile.versions()[:2] == [summary.adapter_dir.name, before.name]
    assert profile.waiting_edits() == [] and all(e.taught_in == summary.adapter_dir.name for e in profile.edits())
    # The update trained against the reference SFT made, not against the adapter it started from.
    old_ref, new_ref = (load_file(str(d / REFERENCE_WEIGHTS)) for d in (before, summary.adapter_dir))
    assert old_ref.keys() == new_ref.keys() and all(torch.equal(old_ref[k], new_ref[k]) for k in old_ref)
    old, new = (load_file(str(d / ADAPTER_WEIGHTS)) for d in (before, summary.adapter_dir))
    assert any(not torch.equal(old[k], new[k]) for k in old), "the update moved the policy"
    header, *log = profile.training_log
    assert header["taught_edits"] == 2
    steps = [entry for entry in log if entry.get("phase") == "dpo"]
    assert len(steps) == 2 and sum(entry["pairs"]["edit"] for entry in steps) > 0

    # Undo gives back the adapter from before the update, bit for bit, and its edits wait to be taught again.
    assert profile.undo() == before.name
    assert trained.load("me").active_adapter_dir == before
    assert len(trained.load("me").waiting_edits()) == 2


def test_a_cancelled_update_changes_nothing(trained, tiny_settings, tiny_config) -> None:
    trained.load("me").add_edit(*EDITS[0])
    before = snapshot(trained.root / "me")
    cancel = CancelToken()

    def cancel_in_dpo(event: ProgressEvent) -> None:
        if event.phase == "dpo":
            cancel.cancel()

    with pytest.raises(Cancelled):
        teach_profile(trained, "me", tiny_settings, tiny_config, cancel_in_dpo, cancel)
    assert snapshot(trained.root / "me") == before


def test_teaching_needs_a_learned_style_and_a_new_edit(trained, tiny_settings, tiny_config) -> None:
    with pytest.raises(InputError, match="no new edit"):
        teach_profile(trained, "me", tiny_settings, tiny_config)
    trained.create("new")
    with pytest.raises(InputError, match="Learn the style first"):
        teach_profile(trained, "new", tiny_settings, tiny_config)


def test_a_version_saved_before_references_were_kept_is_its_own_reference(trained, tiny_settings, tiny_config) -> None:
    """Profiles trained before this change have no reference file: the update runs against the adapter."""
    profile = trained.load("me")
    folder = profile.active_adapter_dir
    (folder / REFERENCE_WEIGHTS).unlink()
    manifest = folder / "manifest.json"
    import json

    data = json.loads(manifest.read_text())
    del data["files"][REFERENCE_WEIGHTS]
    manifest.write_text(json.dumps(data))
    profile.add_edit(*EDITS[1])
    summary = teach_profile(trained, "me", tiny_settings, tiny_config.with_overrides(teach_steps=1))
    reference = load_file(str(summary.adapter_dir / REFERENCE_WEIGHTS))
    adapter = load_file(str(folder / ADAPTER_WEIGHTS))
    assert all(torch.equal(reference[k], adapter[k]) for k in adapter)


# Killed right after the commit point: profile.json has just been replaced to name a new version. Whatever the
# learning changes beside its adapter (the texts it learned from, the edits it taught) must come with it.
_KILLED_AFTER_COMMIT = """
import json, os, sys
from pathlib import Path
from ditto_desk.core import atomic
from ditto_desk.core.jobs import teach_profile, train_profile
from ditto_desk.core.models.settings import ModelSettings
from ditto_desk.core.profiles import profile as profile_module
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.training.config import preset

root, model, job, overrides = Path(sys.argv[1]), sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
store = ProfileStore(root)
before = store.load("me").active_adapter_dir
real = atomic.atomic_write_json

def dying(path, obj):
    real(path, obj)
    if Path(path).name == "profile.json" and obj.get("active_adapter") != (before and before.name):
        os._exit(9)  # the new version is committed; nothing after it ran

profile_module.atomic_write_json = dying
settings, config = ModelSettings(model=model, quantization="none"), preset("quick").with_overrides(**overrides)
if job == "train":
    new = [Demonstration(text="hey all, the retro moves to monday at ten. bring snacks. onward, Maren", prompt="")]
    train_profile(store, "me", settings, config, new_texts=new)
else:
    teach_profile(store, "me", settings, config)
os._exit(0)
"""


@pytest.mark.parametrize("job", ["train", "teach"])
def test_a_learning_killed_right_after_its_commit_keeps_its_texts_and_edits_with_it(
    trained, tiny_settings, tiny_config, job: str
) -> None:
    profile = trained.load("me")
    texts = [d.text for d in profile.demonstrations]
    profile.add_edit(*EDITS[0])
    overrides = {k: getattr(tiny_config, k) for k in ("sft_max_steps", "dpo_steps", "n_samples", "max_new_tokens")}
    args = [str(trained.root), tiny_settings.model, job, json.dumps(overrides)]
    done = subprocess.run([sys.executable, "-c", _KILLED_AFTER_COMMIT, *args], capture_output=True, timeout=600)
    assert done.returncode == 9, done.stderr.decode()[-2000:]

    reopened = trained.load("me")
    assert reopened.active_adapter_dir != profile.active_adapter_dir  # the new version is the profile's
    record = reopened.record
    assert record is not None
    if job == "train":
        assert len(reopened.demonstrations) == len(texts) + 1 == record.demonstrations
        assert [d.text for d in reopened.demonstrations][: len(texts)] == texts
    else:
        assert reopened.waiting_edits() == []  # taught once, not waiting to be taught again
        assert [e.taught_in for e in reopened.edits()] == [reopened.active_adapter_dir.name]
    assert reopened.demonstrations == trained.load("me").demonstrations  # made once, and then left alone
