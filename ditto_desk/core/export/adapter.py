"""A profile's style as a standard PEFT adapter folder: what plain ``peft`` loads on the same base model."""

from __future__ import annotations

from pathlib import Path

from ditto_desk.core.atomic import atomic_copy_file
from ditto_desk.core.errors import ProfileError
from ditto_desk.core.profiles.adapter_folder import BOOKKEEPING, check_adapter
from ditto_desk.core.profiles.profile import Profile


def export_adapter(profile: Profile, dest_dir: Path | str) -> Path:
    """Copy the profile's active adapter to ``dest_dir`` as a standard PEFT adapter folder
    (adapter_model.safetensors, adapter_config.json, and any other file PEFT saved). The adapter is
    verified first, so a damaged one is never exported. Returns ``dest_dir``."""
    if profile.active_adapter_dir is None:
        raise ProfileError(f"The profile '{profile.name}' has no trained adapter yet. Train it first, then export.")
    _, rels = check_adapter(profile.active_adapter_dir, profile.name, hash_files=True)
    dest = Path(dest_dir)
    try:
        for rel in rels:
            if str(rel) in BOOKKEEPING:
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_copy_file(profile.active_adapter_dir / rel, target)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ProfileError(
            f"Could not export the adapter of the profile '{profile.name}' to {dest} ({reason}).", dest
        ) from exc
    return dest
