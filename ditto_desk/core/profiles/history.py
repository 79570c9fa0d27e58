"""What a profile learned, and when: one line per kept version, from its own training log.

Plain data for the command line and the window; a version whose log cannot be read is listed as such rather
than hiding the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ditto_desk.core.errors import ProfileError
from ditto_desk.core.profiles.adapter_folder import check_adapter
from ditto_desk.core.profiles.profile import Profile
from ditto_desk.core.progress import Phase


@dataclass(frozen=True)
class LearnedVersion:
    version: str
    current: bool
    pinned: bool
    finished: str | None = None  # ISO time the training ended
    model: str | None = None
    texts: int | None = None
    taught_edits: int | None = None  # an update from edits (training/teach.py), not a training from scratch
    seconds: float | None = None
    last_sft_loss: float | None = None
    last_dpo_margin: float | None = None
    dpo_stopped_at_margin: float | None = None
    settings: dict[str, Any] | None = None  # the training settings as used
    problem: str | None = None  # why the log could not be read

    @property
    def marks(self) -> list[str]:
        return [m for m, on in (("current", self.current), ("pinned", self.pinned)) if on]

    def describe(self) -> str:
        """The version, its marks and :meth:`summary`: one line of ``profiles history``."""
        head = self.version + (f" ({', '.join(self.marks)})" if self.marks else "")
        return f"{head}: {self.summary()}"

    def summary(self) -> str:
        """What it learned, when, with which model, and how it ended (or why its log could not be read)."""
        if self.problem:
            return self.problem
        what = (
            f"taught {self.taught_edits} edit{'' if self.taught_edits == 1 else 's'}"
            if self.taught_edits
            else "learned"
        )
        phrase = f"{what} {self.finished or 'at an unknown time'}"
        if self.model:
            phrase += f" with {self.model}"
        if self.texts is not None and not self.taught_edits:
            phrase += f" from {self.texts} text{'' if self.texts == 1 else 's'}"
        if self.seconds is not None:
            phrase += f" in {self.seconds:.0f} s"
        figures = []
        if self.last_sft_loss is not None:
            figures.append(f"SFT loss {self.last_sft_loss:.2f}")
        if self.last_dpo_margin is not None:
            figures.append(f"DPO margin {self.last_dpo_margin:+.2f}")
        if self.dpo_stopped_at_margin is not None:
            figures.append("DPO stopped early (over-optimising)")
        return phrase + (f"; {', '.join(figures)}" if figures else "")


def history(profile: Profile) -> list[LearnedVersion]:
    """Every kept version of ``profile``, newest first."""
    current = profile.active_adapter_dir.name if profile.active_adapter_dir else None
    out = []
    for version in profile.versions():
        flags = {"version": version, "current": version == current, "pinned": version in profile.pinned}
        try:
            log, _ = check_adapter(profile.adapters_dir / version, profile.name, hash_files=False)
        except ProfileError as exc:
            out.append(LearnedVersion(**flags, problem=str(exc)))
            continue
        out.append(LearnedVersion(**flags, **_summary(log)))
    return out


def _summary(log: list[dict[str, Any]]) -> dict[str, Any]:
    header = next((e for e in log if isinstance(e, dict) and e.get("phase") == Phase.SUMMARY), {})
    steps = [e for e in log if isinstance(e, dict)]
    sft = [e["loss"] for e in steps if e.get("phase") == Phase.SFT and isinstance(e.get("loss"), (int, float))]
    dpo = [e["reward_margin"] for e in steps if e.get("phase") == Phase.DPO and _number(e.get("reward_margin"))]
    model = header.get("model") if isinstance(header.get("model"), dict) else {}
    seconds = header.get("phase_seconds")
    return {
        "finished": header.get("finished") if isinstance(header.get("finished"), str) else None,
        "model": model.get("name") if isinstance(model.get("name"), str) else None,
        "texts": header.get("demonstrations") if isinstance(header.get("demonstrations"), int) else None,
        "taught_edits": header.get("taught_edits") if isinstance(header.get("taught_edits"), int) else None,
        "seconds": sum(v for v in seconds.values() if _number(v)) if isinstance(seconds, dict) else None,
        "last_sft_loss": sft[-1] if sft else None,
        "last_dpo_margin": dpo[-1] if dpo else None,
        "dpo_stopped_at_margin": header.get("dpo_stopped_at_margin")
        if _number(header.get("dpo_stopped_at_margin"))
        else None,
        "settings": header.get("config") if isinstance(header.get("config"), dict) else None,
    }


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
