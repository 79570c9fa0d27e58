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
from ditto_desk.core.profiles.record import TrainingRecord, is_number
from ditto_desk.core.progress import Phase


@dataclass(frozen=True)
class LearnedVersion:
    version: str
    current: bool
    pinned: bool
    record: TrainingRecord | None = None  # what the learning said about itself (record.py)
    last_sft_loss: float | None = None
    last_dpo_margin: float | None = None
    problem: str | None = None  # why the log could not be read

    @property
    def marks(self) -> list[str]:
        return [m for m, on in (("current", self.current), ("pinned", self.pinned)) if on]

    @property
    def settings(self) -> dict[str, Any] | None:
        """The training settings as used."""
        return self.record.config if self.record is not None else None

    def settings_text(self) -> str:
        """The training settings as used, one "name: value" line each, for a person to read."""
        settings = self.settings or {}
        lines = []
        for name, value in sorted(settings.items()):
            shown = ", ".join(map(str, value)) if isinstance(value, list) else "none" if value is None else value
            lines.append(f"{name.replace('_', ' ')}: {shown}")
        return "\n".join(lines)

    def describe(self) -> str:
        """The version, its marks and :meth:`summary`: one line of ``profiles history``."""
        head = self.version + (f" ({', '.join(self.marks)})" if self.marks else "")
        return f"{head}: {self.summary()}"

    def summary(self) -> str:
        """What it learned, when, with which model, and how it ended (or why its log could not be read)."""
        if self.problem:
            return self.problem
        record = self.record or TrainingRecord(finished=None, model=None, model_name=None)
        edits = record.taught_edits
        what = f"taught {edits} edit{'' if edits == 1 else 's'}" if edits else "learned"
        phrase = f"{what} {record.finished or 'at an unknown time'}"
        if record.model_name:
            phrase += f" with {record.model_name}"
        if record.demonstrations is not None and not edits:
            phrase += f" from {record.demonstrations} text{'' if record.demonstrations == 1 else 's'}"
        if record.seconds is not None:
            phrase += f" in {record.seconds:.0f} s"
        figures = []
        if self.last_sft_loss is not None:
            figures.append(f"SFT loss {self.last_sft_loss:.2f}")
        if self.last_dpo_margin is not None:
            figures.append(f"DPO margin {self.last_dpo_margin:+.2f}")
        if record.dpo_stopped_at_margin is not None:
            figures.append("DPO stopped early (over-optimising)")
        return phrase + (f"; {', '.join(figures)}" if figures else "")


def history(profile: Profile) -> list[LearnedVersion]:
    """Every kept version of ``profile``, newest first."""
    current = profile.active_adapter_dir.name if profile.active_adapter_dir else None
    out = []
    for version in profile.versions():
        current_, pinned = version == current, version in profile.pinned
        try:
            log, _ = check_adapter(profile.adapters_dir / version, profile.name, hash_files=False)
        except ProfileError as exc:
            out.append(LearnedVersion(version, current_, pinned, problem=str(exc)))
            continue
        out.append(
            LearnedVersion(
                version,
                current_,
                pinned,
                TrainingRecord.of_log(log),
                last_sft_loss=_last(log, Phase.SFT, "loss"),
                last_dpo_margin=_last(log, Phase.DPO, "reward_margin"),
            )
        )
    return out


def _last(log: list[dict[str, Any]], phase: Phase, figure: str) -> float | None:
    """The last step's ``figure`` among the log's entries of ``phase``."""
    values = [e[figure] for e in log if isinstance(e, dict) and e.get("phase") == phase and is_number(e.get(figure))]
    return float(values[-1]) if values else None
