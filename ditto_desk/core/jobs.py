"""The core's jobs that both faces run: plain functions that report through a progress callback and stop on a
cancel token, so both faces stay thin (the CLI calls them directly; bridge/tasks.py wraps them for the window)."""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ditto_desk.core.errors import InputError
from ditto_desk.core.models.loading import LoadedModel, load_model
from ditto_desk.core.models.settings import ModelSettings, model_name
from ditto_desk.core.planning.estimates import fitted_config
from ditto_desk.core.planning.machine import this_machine
from ditto_desk.core.profiles.adapter_folder import check_base_model
from ditto_desk.core.profiles.pending import CommitChange
from ditto_desk.core.profiles.profile import Profile
from ditto_desk.core.profiles.record import TrainingRecord
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.progress import CancelToken, Phase, ProgressCallback, ProgressEvent, ignore_progress
from ditto_desk.core.texts.demonstration import Demonstration, split_new
from ditto_desk.core.training.checkpoint import CHECKPOINT_DIR, Checkpoints, LearningKey
from ditto_desk.core.training.config import TrainingConfig
from ditto_desk.core.training.engine import DittoRun
from ditto_desk.core.training.teach import TeachRun


@dataclass(frozen=True)
class TrainingSummary:
    profile: str
    adapter_dir: Path
    seconds: float
    phase_seconds: dict[str, float]
    samples_drawn: int
    samples_cut: int
    model: str
    texts_added: int = 0  # new texts stored in the profile with this run
    resumed: str = ""  # what the stopped learning it continued had done ("SFT and 1 of 3 rounds")


def train_profile(
    store: ProfileStore,
    profile_name: str,
    model_settings: ModelSettings,
    config: TrainingConfig,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    loaded: LoadedModel | None = None,
    *,
    new_texts: Sequence[Demonstration] = (),
    replace: bool = False,
) -> TrainingSummary:
    """Run DITTO on a profile's demonstrations and save the adapter into it.

    ``new_texts`` are learnt from with the profile's own texts (or instead of them, with ``replace``) and
    are added to the profile only when the adapter is committed, skipping texts it already holds. Nothing
    on disk changes until then: a refused, cancelled or failed run leaves the profile exactly as it was.
    The profile is held for the whole run: a second run on it elsewhere is refused at once
    (:class:`ProfileBusyError`). ``loaded`` may pass a freshly loaded model (it is modified: LoRA layers
    are added), otherwise one is loaded for this run alone.
    """
    cancel = cancel or CancelToken()
    start = time.monotonic()
    profile = store.load(profile_name)
    with profile.training():
        own = [] if replace else profile.demonstrations
        added = split_new(own, new_texts)[0]
        demonstrations = own + added
        if not demonstrations:
            raise InputError(f"The profile {profile_name!r} has no demonstrations yet: add a few of your texts first.")
        texts = [d.text for d in demonstrations]
        loaded, config = _model_and_config(loaded, model_settings, config, texts, progress, cancel)
        # Kept as the learning goes; a stopped or crashed one continues from there when run again (checkpoint.py).
        checkpoints = Checkpoints(profile.path / CHECKPOINT_DIR, LearningKey.of(demonstrations, config, loaded.name))
        run = DittoRun(loaded, demonstrations, config, progress, cancel, checkpoints)
        run.run()
        change = CommitChange.adding(new_texts, replace) if new_texts or replace else None
        adapter_dir = _commit(profile, run, model_settings, progress, start, change=change)
        checkpoints.remove()
    return _summary(profile, run, adapter_dir, start, texts_added=len(added), resumed=run.resumed)


def teach_profile(
    store: ProfileStore,
    profile_name: str,
    model_settings: ModelSettings,
    config: TrainingConfig,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    loaded: LoadedModel | None = None,
) -> TrainingSummary:
    """Update a profile's learned style from the edits it has not learned from yet (training/teach.py); the update
    is committed as a new version, which one undo takes back. Like :func:`train_profile`, nothing on disk
    changes unless the update finishes, and the profile is held meanwhile."""
    cancel = cancel or CancelToken()
    start = time.monotonic()
    profile = store.load(profile_name)
    with profile.training():
        if profile.active_adapter_dir is None:
            raise InputError("Learn the style first (Learn my style); then correct its drafts to teach it.")
        waiting = profile.waiting_edits()
        if not waiting:
            raise InputError("There is no new edit to teach: correct a draft in Compose first.")
        earlier = [e for e in profile.edits() if e not in waiting]
        adapter_dir = profile.active_adapter_dir
        check_base_model(adapter_dir, model_name(model_settings.model))
        profile.verify()
        texts = [d.text for d in profile.demonstrations] + [e.edited for e in waiting + earlier]
        loaded, config = _model_and_config(loaded, model_settings, config, texts, progress, cancel)
        run = TeachRun(loaded, profile.demonstrations, waiting, earlier, adapter_dir, config, progress, cancel)
        run.run()
        change = CommitChange.teaching(waiting)
        committed = _commit(profile, run, model_settings, progress, start, taught_edits=len(waiting), change=change)
    return _summary(profile, run, committed, start)


def _model_and_config(
    loaded: LoadedModel | None,
    settings: ModelSettings,
    config: TrainingConfig,
    texts: list[str],
    progress: ProgressCallback,
    cancel: CancelToken,
) -> tuple[LoadedModel, TrainingConfig]:
    """The run's model (``loaded``, or loaded now) and ``config`` fitted to this machine's memory for ``texts``."""
    progress(ProgressEvent(Phase.LOAD, "Preparing the model…"))
    loaded = loaded or load_model(settings, progress, cancel)
    cancel.raise_if_cancelled()
    return loaded, fitted_config(loaded, this_machine(loaded, measure=False), config, texts)


def _commit(
    profile: Profile,
    run: DittoRun | TeachRun,
    settings: ModelSettings,
    progress: ProgressCallback,
    start: float,
    taught_edits: int | None = None,
    change: CommitChange | None = None,
) -> Path:
    """Save the run's adapter as the profile's new version, its training record heading its training log, and
    make ``change`` (the texts it learned from, the edits it taught) in the same step."""
    run.cancel.raise_if_cancelled()
    loaded = run.loaded
    elapsed = time.monotonic() - start
    progress(ProgressEvent(Phase.SAVE, "Saving the learned style…", fraction=1.0, elapsed_s=elapsed))
    record = TrainingRecord(
        finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        model=settings,
        model_name=loaded.name,
        quantization_used=loaded.quantization,
        device=loaded.device,
        machine=platform.machine(),
        config=run.config.to_json(),  # as used: scaled to the model's width
        demonstrations=run.training.n_demos,
        taught_edits=taught_edits,
        phase_seconds=run.stats.phase_seconds,
        samples_drawn=run.stats.samples_drawn,
        samples_cut=run.stats.samples_cut,
        dpo_stopped_at_margin=run.stats.stopped_at_margin,
    )
    return profile.commit_adapter(run.write_adapter, [record.to_json(), *run.stats.log], change)


def _summary(
    profile: Profile,
    run: DittoRun | TeachRun,
    adapter_dir: Path,
    start: float,
    texts_added: int = 0,
    resumed: str = "",
) -> TrainingSummary:
    return TrainingSummary(
        profile=profile.name,
        adapter_dir=adapter_dir,
        seconds=time.monotonic() - start,
        phase_seconds=dict(run.stats.phase_seconds),
        samples_drawn=run.stats.samples_drawn,
        samples_cut=run.stats.samples_cut,
        model=run.loaded.describe(),
        texts_added=texts_added,
        resumed=resumed,
    )
