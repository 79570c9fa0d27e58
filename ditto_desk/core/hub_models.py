"""A model named by its Hugging Face id: the only place the app may use the network, and only by the user's
choice. A model already in the local Hugging Face cache is used from there without touching the network;
one that needs a download fails within seconds, with a plain reason, when the hub cannot be reached.
Only safetensors weights, JSON and tokenizer files are fetched or used: nothing that would be unpickled.
"""

from __future__ import annotations

from pathlib import Path

from .models import ModelError
from .progress import CancelToken, Phase, ProgressCallback, ProgressEvent, ignore_progress

# What a model needs to load with transformers, and nothing that would be unpickled (no *.bin, *.pt).
MODEL_FILES = ["*.json", "*.safetensors", "*.jinja", "*.model", "*.tiktoken", "*.txt", "tokenizer*"]
# Seconds to wait for the hub before saying it cannot be reached (huggingface_hub would retry for ~50 s).
PROBE_TIMEOUT_S = 5.0


def hub_model_folder(
    repo_id: str, progress: ProgressCallback = ignore_progress, cancel: CancelToken | None = None
) -> Path:
    """The local folder of ``repo_id``: from the cache when it is complete there, else downloaded."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        cached = Path(snapshot_download(repo_id, allow_patterns=MODEL_FILES, local_files_only=True))
        if _loadable(cached):
            return cached
    except LocalEntryNotFoundError:
        pass
    try:
        info = HfApi().model_info(repo_id, timeout=PROBE_TIMEOUT_S)
    except GatedRepoError:
        raise ModelError(_gated(repo_id)) from None
    except RepositoryNotFoundError:
        raise ModelError(
            f"There is no model {repo_id!r} on Hugging Face (or it is private). Check the spelling, "
            "e.g. HuggingFaceTB/SmolLM2-360M-Instruct."
        ) from None
    except Exception as exc:  # no network, DNS, proxy, timeout, offline mode: all mean "cannot download now"
        raise ModelError(
            f"{repo_id} is not on this computer yet and Hugging Face cannot be reached to download it "
            f"({exc.__class__.__name__}). Connect to the internet and try again, or choose the bundled model "
            "or a model folder."
        ) from None
    if not any(s.rfilename.endswith(".safetensors") for s in info.siblings or []):
        raise ModelError(f"{repo_id} has no safetensors weights, the only kind ditto-desk loads. Pick another model.")
    progress(ProgressEvent(Phase.DOWNLOAD, f"Downloading {repo_id} from Hugging Face…"))
    try:
        folder = Path(snapshot_download(repo_id, allow_patterns=MODEL_FILES))
    except GatedRepoError:
        raise ModelError(_gated(repo_id)) from None
    except Exception as exc:
        raise ModelError(f"The download of {repo_id} failed ({exc}). Try again; finished files are kept.") from exc
    if not _loadable(folder):
        raise ModelError(f"{repo_id} downloaded without a config.json or safetensors weights; pick another model.")
    return folder


def _loadable(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


def _gated(repo_id: str) -> str:
    return (
        f"{repo_id} is gated: accept its licence at https://huggingface.co/{repo_id} while logged in, then give "
        "this computer your access token (`hf auth login`, or the HF_TOKEN environment variable) and try again."
    )
