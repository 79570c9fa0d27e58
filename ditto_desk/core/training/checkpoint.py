"""A learning's checkpoint: what the next DITTO round needs, kept when SFT ends and when each round ends, so that a
learning that was killed, crashed or stopped continues where it was instead of starting over.

One checkpoint per profile, in its folder (``learning-checkpoint/``): written beside the old one and swapped in,
so a kill mid-write leaves the old one whole, and removed once the learning commits. Tensors are kept in
safetensors and everything else in JSON, so nothing is unpickled. A checkpoint belongs to one learning (its
texts, its settings as fitted to this machine, its model): any other learning starts afresh and says what changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ditto_desk.core.atomic import atomic_write_json, fsync_dir, fsync_file
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.training.config import TrainingConfig

if TYPE_CHECKING:  # torch is imported where tensors are handled: the window reads kept_learning without it
    import torch

CHECKPOINT_DIR = "learning-checkpoint"
TENSORS, STATE, ABOUT = "tensors.safetensors", "state.json", "about.json"
FORMAT = 1
_NEEDED = {"done_steps", "rng", "pool", "stats", "clock"}  # what every checkpoint's state holds


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class LearningKey:
    """Which learning a checkpoint belongs to."""

    texts: str
    settings: str
    model: str

    @classmethod
    def of(cls, demonstrations: list[Demonstration], config: TrainingConfig, model: str) -> LearningKey:
        # What the learning reads of each text: not its id or the file it came from, which a second import of the
        # same files (the same command run again) gives anew.
        texts = [{k: v for k, v in d.to_json().items() if k not in ("id", "source")} for d in demonstrations]
        return cls(_digest(texts), _digest(config.to_json()), model)

    def to_json(self) -> dict[str, str]:
        return {"texts": self.texts, "settings": self.settings, "model": self.model}

    def what_changed(self, saved: object) -> str | None:
        """Why a checkpoint saved under ``saved`` is not this learning's, in words; None when it is."""
        if not isinstance(saved, dict):
            return "the stopped learning's checkpoint could not be read"
        if saved.get("model") != self.model:
            return "the model is not the one the stopped learning used"
        if saved.get("texts") != self.texts:
            return "the texts changed since the learning stopped"
        if saved.get("settings") != self.settings:
            return "the learning settings changed since it stopped"
        return None


@dataclass
class Checkpoint:
    rounds_done: int  # 0: SFT is over, no round yet
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)  # named "<group>/<name>"
    state: dict[str, Any] = field(default_factory=dict)  # everything else, as JSON data

    def group(self, prefix: str) -> dict[str, torch.Tensor]:
        """The tensors saved under ``prefix`` ("policy", "fallback/0", …), by their own names."""
        start = prefix + "/"
        return {k[len(start) :]: v for k, v in self.tensors.items() if k.startswith(start)}

    def put(self, prefix: str, tensors: dict[str, torch.Tensor]) -> None:
        for name, value in tensors.items():
            self.tensors[f"{prefix}/{name}"] = value.detach().to("cpu").contiguous()


class Checkpoints:
    """The checkpoint of one learning, in ``folder``."""

    def __init__(self, folder: Path, key: LearningKey) -> None:
        self.folder = folder
        self.key = key

    def exists(self) -> bool:
        return (self.folder / STATE).is_file()

    def load(self) -> tuple[Checkpoint | None, str]:
        """This learning's checkpoint, if it has one; otherwise why a checkpoint there is not used ("" when there is
        none at all)."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        if not self.exists():
            return None, ""
        try:
            state = json.loads((self.folder / STATE).read_text(encoding="utf-8"))
            changed = self.key.what_changed(state.get("key")) if state.get("format") == FORMAT else "it is too old"
            if changed:
                return None, changed
            kept = Checkpoint(int(state["rounds_done"]), load_file(str(self.folder / TENSORS)), state["state"])
            if not kept.state.keys() >= _NEEDED or "torch_rng" not in kept.tensors or not kept.group("policy"):
                raise ValueError("parts of it are missing")
            return kept, ""
        except (OSError, ValueError, KeyError, TypeError, AttributeError, SafetensorError) as exc:
            return None, f"the stopped learning's checkpoint could not be read ({exc})"

    def save(self, checkpoint: Checkpoint, n_rounds: int) -> bool:
        """Replace the checkpoint with ``checkpoint``, whole or not at all; False if the disk refused it (a full disk:
        the learning goes on, with the previous checkpoint kept)."""
        from safetensors import SafetensorError
        from safetensors.torch import save_file

        parent = self.folder.parent
        fresh = parent / f".{CHECKPOINT_DIR}-{uuid.uuid4().hex[:8]}"
        old = parent / f".{CHECKPOINT_DIR}-old-{uuid.uuid4().hex[:8]}"
        try:
            fresh.mkdir()
            save_file(checkpoint.tensors, str(fresh / TENSORS))
            fsync_file(fresh / TENSORS)
            data = {
                "format": FORMAT,
                "key": self.key.to_json(),
                "rounds_done": checkpoint.rounds_done,
                "state": checkpoint.state,
            }
            atomic_write_json(fresh / STATE, data)
            atomic_write_json(fresh / ABOUT, {"rounds_done": checkpoint.rounds_done, "n_rounds": n_rounds})
            if self.folder.exists():
                os.rename(self.folder, old)
            os.rename(fresh, self.folder)
            fsync_dir(parent)
        except (OSError, SafetensorError):  # safetensors says a full disk its own way
            shutil.rmtree(fresh, ignore_errors=True)
            if old.exists() and not self.folder.exists():
                with contextlib.suppress(OSError):
                    os.rename(old, self.folder)
            return False
        shutil.rmtree(old, ignore_errors=True)
        return True

    def remove(self) -> None:
        """Drop the checkpoint (and any left half-written by a kill)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            for entry in self.folder.parent.iterdir():
                if entry.name.startswith(f".{CHECKPOINT_DIR}-"):
                    shutil.rmtree(entry, ignore_errors=True)


def done_in_words(rounds_done: int, n_rounds: int) -> str:
    return f"SFT and {rounds_done} of {n_rounds} rounds" if rounds_done else "SFT"


def kept_learning(profile_folder: Path) -> str | None:
    """What the stopped learning kept in this profile had done ("SFT and 1 of 3 rounds"); None when none is kept."""
    try:
        about = json.loads((profile_folder / CHECKPOINT_DIR / ABOUT).read_text(encoding="utf-8"))
        return done_in_words(int(about["rounds_done"]), int(about["n_rounds"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


# -- the optimizer, in safetensors and JSON ---------------------------------------------------------------------


def save_optimizer(checkpoint: Checkpoint, optimizer: torch.optim.Optimizer, scheduler: Any) -> None:
    import torch

    state = optimizer.state_dict()
    plain: dict[str, dict[str, Any]] = {}
    for index, entries in state["state"].items():
        plain[str(index)] = {}
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                checkpoint.put(f"optimizer/{index}", {name: value})
            else:
                plain[str(index)][name] = value
    checkpoint.state["optimizer"] = {"param_groups": state["param_groups"], "state": plain}
    checkpoint.state["scheduler"] = scheduler.state_dict()


def load_optimizer(checkpoint: Checkpoint, optimizer: torch.optim.Optimizer, scheduler: Any) -> None:
    saved = checkpoint.state["optimizer"]
    state: dict[int, dict[str, Any]] = {int(i): dict(entries) for i, entries in saved["state"].items()}
    for index in state:
        state[index].update(checkpoint.group(f"optimizer/{index}"))
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
    scheduler.load_state_dict(checkpoint.state["scheduler"])
