"""The jobs the window runs: each function here makes a job, a core callable ``fn(progress, cancel)``
(core/progress.py's ``JobFn``), for workers.py to run in a background thread.

torch, transformers and peft are imported inside the jobs, in their thread, so the window opens
without them. No Qt here and no UI code: a job only reports events and returns (or yields).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from typing import Any

from ditto_desk.core.app_settings import AUTO_LENGTH
from ditto_desk.core.importing.files import IncomingMessage
from ditto_desk.core.profiles.profile import Profile
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.progress import CancelToken, JobFn, Phase, ProgressCallback, ProgressEvent
from ditto_desk.core.texts.replies import compose_request
from ditto_desk.core.training.config import TrainingConfig


@contextmanager
def long_lived_objects() -> Iterator[None]:
    """Pause the garbage collector while importing torch/transformers and loading a model, then freeze
    everything that exists so later collections skip it.

    A full collection scans every tracked object while holding the GIL; with torch, transformers, trl
    and a model in memory that took ~300 ms on 2 cores, freezing the window each time it ran in a
    job's thread. Frozen objects are never collected, which is right for modules and the compose model;
    the little garbage frozen with them is the price.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def import_files(paths: list[str]) -> JobFn:
    """Read the user's files (folders expanded) into demonstrations, reporting each file, stopping on cancel."""

    def job(progress: ProgressCallback, cancel: CancelToken) -> Any:
        from ditto_desk.core.importing.files import import_paths

        return import_paths(paths, progress=progress, cancel=cancel)

    return job


def pick_from_mailbox(source: str, me: list[str], count: int, password: str = "") -> JobFn:
    """Read a mailbox (mbox, Maildir or IMAP folder) for the user's own emails and pick ``count`` of them; return
    (:class:`~ditto_desk.core.mailbox.scan.MailboxScan`, its picks). Nothing is added until the user confirms."""

    def job(progress: ProgressCallback, cancel: CancelToken) -> Any:
        from ditto_desk.core.mailbox.picking import pick_representative
        from ditto_desk.core.mailbox.scan import scan_mailbox

        scan = scan_mailbox(source, me, progress, cancel, password=password)
        return scan, pick_representative(scan.own.found, count)

    return job


def load_writer(model_json: dict[str, str]) -> JobFn:
    """Load the compose model (converting the bundled one on first run); return a core ``Writer`` and this
    machine (its speed measured on that model, for the time estimates)."""

    def job(progress: ProgressCallback, cancel: CancelToken) -> Any:
        with long_lived_objects():
            from ditto_desk.core.models.loading import load_model
            from ditto_desk.core.models.settings import ModelSettings
            from ditto_desk.core.planning.machine import this_machine
            from ditto_desk.core.writing.writer import Writer

            loaded = load_model(ModelSettings.from_json(model_json), progress, cancel)
        cancel.raise_if_cancelled()
        progress(ProgressEvent(Phase.LOAD, "Measuring this computer's speed…"))
        return Writer(loaded), this_machine(loaded)

    return job


def train(store: ProfileStore, profile: str, model_json: dict[str, str], config: TrainingConfig) -> JobFn:
    """Run DITTO on the profile; returns the core ``TrainingSummary``."""

    def job(progress: ProgressCallback, cancel: CancelToken) -> Any:
        with long_lived_objects():  # trl, peft, datasets: imported once, kept for the app's life
            from ditto_desk.core.jobs import train_profile
            from ditto_desk.core.models.settings import ModelSettings

        return train_profile(store, profile, ModelSettings.from_json(model_json), config, progress, cancel)

    return job


def teach(store: ProfileStore, profile: str, model_json: dict[str, str], config: TrainingConfig) -> JobFn:
    """Update the profile's learned style from its edits waiting to be taught; returns the core
    ``TrainingSummary``. Like :func:`train`: a cancelled or failed update leaves the profile as it was."""

    def job(progress: ProgressCallback, cancel: CancelToken) -> Any:
        with long_lived_objects():
            from ditto_desk.core.jobs import teach_profile
            from ditto_desk.core.models.settings import ModelSettings

        return teach_profile(store, profile, ModelSettings.from_json(model_json), config, progress, cancel)

    return job


def model_request(writer: Any, profile: Profile | None, typed: str, message: IncomingMessage | None = None) -> str:
    """The request the model is given for what the user typed (worded like the profile's training prompts), after
    the message being answered, if any. A draft answers this request, so an edit of that draft is kept with it,
    not with the typed words."""
    prompts = [d.prompt for d in profile.demonstrations] if profile is not None else []
    if message is None:
        return compose_request(writer.loaded.tokenizer, typed, prompts)
    return compose_request(writer.loaded.tokenizer, typed, prompts, message.text, message.sender, message.subject)


def write(
    writer: Any,
    profile: Profile | None,
    request: str,
    length: int,
    temperature: float,
    compare: bool,
    style_strength: float = 1.0,
) -> Callable[[ProgressCallback, CancelToken], Iterator[tuple[str, str]]]:
    """Stream a draft for the model's ``request`` (:func:`model_request`) as ("styled", piece) items, then, if
    ``compare``, the base model's as ("base", piece). ``length`` caps the draft's tokens; AUTO_LENGTH takes the
    cap from the profile's texts; ``style_strength`` weighs the learned style."""
    adapter_dir = profile.active_adapter_dir if profile is not None else None
    texts = [d.text for d in profile.demonstrations] if profile is not None else []

    def job(progress: ProgressCallback, cancel: CancelToken) -> Iterator[tuple[str, str]]:
        from ditto_desk.core.writing.writer import WriteOptions

        if writer.adapter_dir != adapter_dir:
            if profile is not None:
                profile.verify()  # a damaged adapter gets the profile's own message, not a peft traceback
            writer.use_adapter(adapter_dir)
        bounds = writer.length_for(texts, None if length == AUTO_LENGTH else length)
        options = WriteOptions.within(bounds, temperature, style_strength=style_strength)
        # closing(): when the window stops iterating, the generate() thread is stopped and joined at once.
        with closing(writer.stream(request, options, use_adapter=True, cancel=cancel)) as pieces:
            for piece in pieces:
                yield "styled", piece
        if compare and adapter_dir is not None and not cancel.cancelled:
            with closing(writer.stream(request, options, use_adapter=False, cancel=cancel)) as pieces:
                for piece in pieces:
                    yield "base", piece

    return job
