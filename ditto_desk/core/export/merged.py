"""A profile's style merged into a full copy of its base model: an ordinary transformers checkpoint
(safetensors + tokenizer) that any tool loads with ``AutoModelForCausalLM.from_pretrained``, no peft needed.

The base model is always loaded unquantized for this: merging a LoRA into NF4 or int8 weights would round
the merged weights to 4 or 8 bits again, so the export would no longer write like the app does. "bf16" is
kept when chosen (the user's own precision); every other choice merges in full precision by models/loading.py's
rule (bf16 on a CUDA GPU that supports it, fp32 elsewhere).
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors import SafetensorError

from ditto_desk.core.atomic import fsync_dir, fsync_file
from ditto_desk.core.errors import ProfileError
from ditto_desk.core.export.destination import new_folder
from ditto_desk.core.models.settings import ModelSettings
from ditto_desk.core.profiles.adapter_folder import check_base_model
from ditto_desk.core.progress import CancelToken, Phase, ProgressCallback, ProgressEvent, ignore_progress

if TYPE_CHECKING:
    from ditto_desk.core.profiles.profile import Profile


def merge_settings(settings: ModelSettings) -> tuple[ModelSettings, str]:
    """The settings to merge with, and a sentence saying which precision and why."""
    if settings.quantization == "bf16":
        return settings, "Merging in bf16, the precision chosen in the settings."
    why = {"nf4": "NF4", "int8": "int8"}.get(settings.quantization)
    note = "Merging in full precision"
    if why:
        note += f", not {why}: a style merged into {why} weights is rounded again and no longer writes as learned"
    return replace(settings, quantization="none"), note + "."


def export_merged(
    profile: Profile,
    loaded_model_settings: ModelSettings,
    dest_dir: Path | str,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """Save the base model with the profile's adapter merged in, as safetensors plus the tokenizer, into the
    new folder ``dest_dir`` (an existing folder is refused unless empty: nothing is overwritten). Written to
    a hidden folder next to it, then renamed, so ``dest_dir`` appears complete or not at all."""
    from peft import PeftModel

    from ditto_desk.core.models.loading import load_model
    from ditto_desk.core.models.settings import model_name

    cancel = cancel or CancelToken()
    if profile.active_adapter_dir is None:
        raise ProfileError(f"The profile '{profile.name}' has no trained style yet. Train it first, then export.")
    dest = Path(dest_dir).expanduser()
    new_folder(dest, "the model")
    profile.verify()
    check_base_model(profile.active_adapter_dir, model_name(loaded_model_settings.model))  # before a long load
    settings, note = merge_settings(loaded_model_settings)
    progress(ProgressEvent(Phase.LOAD, note))
    loaded = load_model(settings, progress, cancel)
    check_base_model(profile.active_adapter_dir, loaded.name)
    cancel.raise_if_cancelled()
    progress(ProgressEvent(Phase.SAVE, f"Merging the style of {profile.name} into {loaded.name}…", fraction=0.3))
    peft_model = PeftModel.from_pretrained(loaded.model, str(profile.active_adapter_dir))
    merged = peft_model.merge_and_unload(safe_merge=True)  # safe_merge: refuse weights that became NaN
    _stop_where_the_app_stops(merged, loaded.tokenizer)
    cancel.raise_if_cancelled()
    progress(ProgressEvent(Phase.SAVE, f"Saving the merged model to {dest}…", fraction=0.6))
    tmp = dest.parent / f".{dest.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        merged.save_pretrained(tmp)  # safetensors: the default, and the only format in transformers 5
        loaded.tokenizer.save_pretrained(tmp)
        if not any(tmp.glob("*.safetensors")) or any(tmp.glob("*.bin")):
            raise ProfileError(f"The merged model was not saved as safetensors in {tmp}; nothing was exported.")
        for path in tmp.rglob("*"):
            if path.is_file():
                fsync_file(path)
        fsync_dir(tmp)
        cancel.raise_if_cancelled()
        if dest.is_dir():
            dest.rmdir()  # empty (checked above); rename can't replace a folder on Windows
        os.rename(tmp, dest)
        fsync_dir(dest.parent)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        # safetensors reports a failed write (a full disk) as its own error, not as an OSError.
        if isinstance(exc, (OSError, SafetensorError)):
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ProfileError(
                f"Could not save the merged model to {dest} ({reason}). Nothing was exported; check "
                "that the disk has free space (a merged model is as large as the model itself) and try again.",
                dest,
            ) from exc
        raise
    progress(ProgressEvent(Phase.DONE, f"Merged model saved to {dest}.", fraction=1.0))
    return dest


def _stop_where_the_app_stops(model: Any, tokenizer: Any) -> None:
    """The app ends answers at the chat format's end-of-turn token (chat.end_answers_where_the_chat_format_does
    may have made it the tokenizer's EOS); make plain ``generate()`` on the export stop there too."""
    eos = model.generation_config.eos_token_id
    ids = [eos] if isinstance(eos, int) else list(eos or [])
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        model.generation_config.eos_token_id = [*ids, tokenizer.eos_token_id]
