"""A model named by its Hugging Face id: the only place the app may use the network, and only by the user's
choice. A model already in the local Hugging Face cache is used from there without touching the network;
one that needs a download fails within seconds, with a plain reason, when the hub cannot be reached.
Only safetensors weights, JSON and tokenizer files are fetched or used: nothing that would be unpickled.

A download reports bytes, speed and time left, stops on cancel between two of the library's 10 MB chunks,
and a cancelled or broken one continues from the bytes already on disk. Files land in the ordinary Hugging
Face cache, whose ``refs/main`` is written only once every file is there: a half model is never used.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ditto_desk.core.errors import ModelError
from ditto_desk.core.progress import (
    Cancelled,
    CancelToken,
    Phase,
    ProgressCallback,
    ProgressEvent,
    eta_seconds,
    format_duration,
    ignore_progress,
)

# What a model needs to load with transformers, and nothing that would be unpickled (no *.bin, *.pt).
MODEL_FILES = ["*.json", "*.safetensors", "*.jinja", "*.model", "*.tiktoken", "*.txt", "tokenizer*"]
# Seconds to wait for the hub before saying it cannot be reached (huggingface_hub would retry for ~50 s).
PROBE_TIMEOUT_S = 5.0
EVENTS_PER_SECOND = 5


def hub_model_folder(
    repo_id: str, progress: ProgressCallback = ignore_progress, cancel: CancelToken | None = None
) -> Path:
    """The local folder of ``repo_id``: from the cache when it is complete there, else downloaded."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError
    from huggingface_hub.utils import filter_repo_objects

    try:
        cached = Path(snapshot_download(repo_id, allow_patterns=MODEL_FILES, local_files_only=True))
        if _loadable(cached):
            return cached
    except LocalEntryNotFoundError:
        pass
    try:
        info = HfApi().model_info(repo_id, timeout=PROBE_TIMEOUT_S, files_metadata=True)
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
    sizes = {s.rfilename: s.size or 0 for s in info.siblings or []}
    files = {name: sizes[name] for name in filter_repo_objects(sizes, allow_patterns=MODEL_FILES)}
    if not any(name.endswith(".safetensors") for name in files):
        raise ModelError(f"{repo_id} has no safetensors weights, the only kind ditto-desk loads. Pick another model.")
    if "config.json" not in files:
        raise ModelError(f"{repo_id} has no config.json, so it cannot be loaded; pick another model.")
    try:
        folder = _download(repo_id, str(info.sha), files, _Meter(repo_id, sum(files.values()), progress, cancel))
    except Cancelled:
        raise
    except GatedRepoError:
        raise ModelError(_gated(repo_id)) from None
    except Exception as exc:
        raise ModelError(f"The download of {repo_id} failed ({exc}). Try again: it goes on where it stopped.") from exc
    if folder.name != info.sha:
        raise ModelError(f"{repo_id} changed on Hugging Face during the download. Try again.")
    if not _loadable(folder):
        raise ModelError(f"{repo_id} has no tokenizer or lacks some of its weights files; pick another model.")
    return folder


def _download(repo_id: str, commit: str, files: dict[str, int], meter: _Meter) -> Path:
    """Fetch ``files`` of ``commit`` into the Hugging Face cache; return its snapshot folder."""
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_download, hf_hub_url
    from huggingface_hub.file_download import repo_folder_name
    from huggingface_hub.utils import WeakFileLock

    cache = Path(constants.HF_HUB_CACHE).expanduser().resolve()
    storage = cache / repo_folder_name(repo_id=repo_id, repo_type="model")
    meter.report(force=True)
    for name, size in files.items():
        meter.check()
        if not (storage / "snapshots" / commit / name).exists():  # else fetched by an earlier attempt
            url = hf_hub_url(repo_id, name, revision=commit)
            metadata = get_hf_file_metadata(url)
            if not metadata.etag:
                raise OSError(f"{url} came without an ETag: HF_ENDPOINT is not a Hugging Face hub")
            blob = storage / "blobs" / str(metadata.etag)  # where hf_hub_download looks for this file
            lock = cache / ".locks" / storage.name / f"{metadata.etag}.lock"  # and the lock it takes
            blob.parent.mkdir(parents=True, exist_ok=True)
            lock.parent.mkdir(parents=True, exist_ok=True)
            with WeakFileLock(lock):
                if not blob.exists():
                    _fetch(url, metadata.location, blob, metadata.size, meter)
            hf_hub_download(repo_id, name, revision=commit)  # finds the blob: links it into the snapshot
        meter.file_done(size)
    # The only call that records refs/main, now that every file is in place: a cancelled or failed download
    # leaves no ref, so the cache check never returns its snapshot.
    return Path(hf_hub_download(repo_id, "config.json")).parent


def _fetch(url: str, location: str, blob: Path, size: int | None, meter: _Meter) -> None:
    """Download one file into ``blob``, continuing the partial file an earlier attempt left.

    hf_hub_download deletes its partial file when a download stops, so it cannot resume one: its http_get is
    given a partial file of ours that outlives a cancel, a crash or a lost connection.
    """
    from huggingface_hub import constants
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    headers = build_hf_headers()
    host = urlsplit(location).hostname
    if host != urlsplit(url).hostname and host not in constants.HF_URL_HOSTS:
        headers.pop("authorization", None)  # a signed CDN address: the token stays with the hub, as the library does
    partial = blob.with_name(blob.name + ".incomplete")
    resume = partial.stat().st_size if partial.exists() else 0
    if size is not None and resume > size:
        resume = 0  # not a prefix of this file: start over
    with partial.open("ab" if resume else "wb") as file:
        http_get(location, file, resume_size=resume, headers=headers, expected_size=size, tqdm_class=meter.bar())
    os.replace(partial, blob)


class _Meter:
    """Turns a download's byte counts into throttled progress events, and stops it when cancelled."""

    def __init__(self, repo_id: str, total: int, progress: ProgressCallback, cancel: CancelToken | None) -> None:
        self.repo_id, self.total, self.progress, self.cancel = repo_id, max(total, 1), progress, cancel
        self.done = 0  # bytes of the files finished
        self.current = 0  # bytes of the file under way, those resumed from disk included
        self.received = 0  # bytes received by this call: the speed
        self.start = time.monotonic()
        self.last_event = float("-inf")

    def check(self) -> None:
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()

    def file_done(self, size: int) -> None:
        self.done, self.current = self.done + size, 0
        self.report(force=self.done >= self.total)

    def report(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_event < 1 / EVENTS_PER_SECOND:
            return
        self.last_event, elapsed = now, now - self.start
        have = min(self.done + self.current, self.total)
        # Time left at this call's speed: bytes resumed from disk took no time now.
        eta = eta_seconds(elapsed, self.received / (self.received + self.total - have)) if self.received else None
        digits = 1 if self.total < 10e6 else 0
        parts = [f"{have / 1e6:.{digits}f} of {self.total / 1e6:.{digits}f} MB"]
        if self.received and elapsed > 0:
            parts.append(f"{self.received / elapsed / 1e6:.1f} MB/s")
        if eta is not None:
            parts.append(f"{format_duration(eta)} left")
        message = f"Downloading {self.repo_id}: {', '.join(parts)}"
        self.progress(ProgressEvent(Phase.DOWNLOAD, message, fraction=have / self.total, elapsed_s=elapsed, eta_s=eta))

    def bar(self) -> type[Any]:
        """A tqdm class for http_get: it draws nothing, counts bytes here and raises Cancelled between chunks."""
        from tqdm import tqdm

        meter = self

        class _Bar(tqdm):  # type: ignore[type-arg]  # generic in its stubs only, not at run time
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **{**kwargs, "disable": True})
                meter.current = kwargs.get("initial") or 0  # a resumed file starts with the bytes on disk

            def update(self, n: float | None = 1) -> bool | None:
                meter.check()
                meter.current += int(n or 0)
                meter.received += int(n or 0)
                meter.report()
                return None

        return _Bar


def _loadable(folder: Path) -> bool:
    """config.json, a tokenizer and every weights file: what a download finishes with, checked without the hub."""
    index = folder / "model.safetensors.index.json"
    try:
        shards = set(json.loads(index.read_text())["weight_map"].values()) if index.is_file() else set()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    return (
        (folder / "config.json").is_file()
        and any(folder.glob("tokenizer*"))
        and any(folder.glob("*.safetensors"))
        and all((folder / shard).is_file() for shard in shards)
    )


def _gated(repo_id: str) -> str:
    return (
        f"{repo_id} is gated: accept its licence at https://huggingface.co/{repo_id} while logged in, then give "
        "this computer your access token (`hf auth login`, or the HF_TOKEN environment variable) and try again."
    )
