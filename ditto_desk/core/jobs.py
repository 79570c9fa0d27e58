"""The jobs the GUI and the CLI run: each a plain function taking a progress callback and a cancel
token, so both faces stay thin."""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .config import TrainingConfig
from .engine import DittoRun
from .models import LoadedModel, ModelSettings, load_model
from .profiles import ProfileStore
from .progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress


@dataclass(frozen=True)
class TrainingSummary:
    profile: str
    adapter_dir: Path
    seconds: float
    phase_seconds: dict[str, float]
    samples_drawn: int
    samples_cut: int
    final_loss: float | None
    model: str


def train_profile(
    store: ProfileStore,
    profile_name: str,
    model_settings: ModelSettings,
    config: TrainingConfig,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    loaded: LoadedModel | None = None,
) -> TrainingSummary:
    """Run DITTO on a profile's demonstrations and save the adapter into it.

    Nothing on disk changes until the very end, when the adapter is committed atomically: a cancelled
    or failed run leaves the profile exactly as it was. ``loaded`` may pass a freshly loaded model (it
    is modified: LoRA layers are added), otherwise one is loaded for this run alone.
    """
    cancel = cancel or CancelToken()
    start = time.monotonic()
    profile = store.load(profile_name)
    if not profile.demonstrations:
        raise ValueError(f"The profile {profile_name!r} has no demonstrations yet: add a few of your texts first.")
    progress(ProgressEvent("load", "Preparing the model…"))
    loaded = loaded or load_model(model_settings, progress)
    cancel.raise_if_cancelled()
    run = DittoRun(loaded, profile.demonstrations, config, progress, cancel)
    run.run()
    cancel.raise_if_cancelled()
    progress(ProgressEvent("save", "Saving the learned style…", fraction=1.0, elapsed_s=time.monotonic() - start))
    header = {
        "phase": "summary",
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": model_settings.to_json() | {"name": loaded.name, "quantization_used": loaded.quantization},
        "device": loaded.device,
        "machine": platform.machine(),
        "config": config.to_json(),
        "demonstrations": len(profile.demonstrations),
        "phase_seconds": run.stats.phase_seconds,
        "samples_drawn": run.stats.samples_drawn,
        "samples_cut": run.stats.samples_cut,
    }
    adapter_dir = profile.commit_adapter(run.write_adapter, [header, *run.stats.log])
    losses = [entry["loss"] for entry in run.stats.log if "loss" in entry]
    return TrainingSummary(
        profile=profile.name,
        adapter_dir=adapter_dir,
        seconds=time.monotonic() - start,
        phase_seconds=dict(run.stats.phase_seconds),
        samples_drawn=run.stats.samples_drawn,
        samples_cut=run.stats.samples_cut,
        final_loss=losses[-1] if losses else None,
        model=loaded.describe(),
    )
