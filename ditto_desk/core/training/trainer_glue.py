"""What the SFT and DPO phases share: trainer arguments for a quiet, in-memory run, and a callback
that turns the trainers' logs into our progress reports and honours the cancel flag."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

from transformers import TrainerCallback

from ditto_desk.core.progress import CancelToken

# No checkpoints, no reporting services, no progress bars: the engine saves the adapter itself, atomically,
# into the profile. No trainer mixed precision either: a bf16 model trains inside LoadedModel.autocast().
QUIET_TRAINING = {
    "save_strategy": "no",
    "report_to": "none",
    "logging_steps": 1,
    "disable_tqdm": True,
    "bf16": False,
    "fp16": False,
    "activation_checkpointing": False,
    "dataloader_num_workers": 0,
}


def scratch_dir() -> str:
    """Trainers insist on an output folder; nothing is written there."""
    return tempfile.mkdtemp(prefix="ditto-desk-trainer-")


def common_args(device: str, seed: int) -> dict[str, Any]:
    return {**QUIET_TRAINING, "output_dir": scratch_dir(), "use_cpu": device == "cpu", "seed": seed}


class StepReporter(TrainerCallback):
    """Calls ``on_step(step, logs)`` after every logged optimizer step; stops when asked to."""

    def __init__(
        self,
        on_step: Callable[[int, dict[str, float]], bool],
        cancel: CancelToken,
    ) -> None:
        self.on_step = on_step
        self.cancel = cancel

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        self.cancel.raise_if_cancelled()
        return control

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kwargs: Any) -> Any:
        if logs and "loss" in logs and self.on_step(state.global_step, logs):
            control.should_training_stop = True
        self.cancel.raise_if_cancelled()
        return control
