"""Downloads of a Hugging Face model, by the real huggingface_hub client from a hub on 127.0.0.1 (hub_server.py):
progress, cancel, resume, a gated repo, and only the files that load without unpickling."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hub_server import FakeHub, model_files, use_hub

from ditto_desk.core.errors import ModelError
from ditto_desk.core.models.hub import hub_model_folder
from ditto_desk.core.models.loading import load_model
from ditto_desk.core.models.settings import ModelSettings
from ditto_desk.core.progress import Cancelled, CancelToken, Phase, ProgressEvent

REPO_ID = "someone/tiny-chat"
WEIGHTS = "model.safetensors"
# Big enough for three of the 10 MB chunks huggingface_hub reads a download in: a cancel lands inside it.
WEIGHTS_BYTES = 26_000_000
NEVER_FETCHED = {"pytorch_model.bin", "training_args.bin", "README.md", ".gitattributes"}
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def repo_files(tiny_model_dir: Path) -> dict[str, bytes]:
    pickles = {name: b"\x80\x04not for loading" for name in ("pytorch_model.bin", "training_args.bin")}
    return {**model_files(tiny_model_dir, WEIGHTS_BYTES), **pickles, "README.md": b"# tiny", ".gitattributes": b""}


@pytest.fixture
def hub(repo_files: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    with FakeHub() as server:
        server.add(REPO_ID, repo_files)
        server.add("someone/gated-chat", repo_files, gated=True)
        use_hub(monkeypatch, server.url, tmp_path / "hf")
        yield server


def _storage(tmp_path: Path) -> Path:
    return tmp_path / "hf" / "hub" / "models--someone--tiny-chat"


def _chunk() -> int:
    from huggingface_hub import constants

    return constants.DOWNLOAD_CHUNK_SIZE


def _cancel_in_the_weights(hub: FakeHub) -> float:
    """Start a download and cancel it once the first chunk of the weights is in; return how long the cancel took."""
    hub.slow[WEIGHTS] = 0.002  # 26 MB in about a second
    token = CancelToken()
    cancelled_at = 0.0

    def on_event(event: ProgressEvent) -> None:
        nonlocal cancelled_at
        if event.fraction > 0.3 and not token.cancelled:
            token.cancel()
            cancelled_at = time.monotonic()

    with pytest.raises(Cancelled):
        hub_model_folder(REPO_ID, on_event, token)
    return time.monotonic() - cancelled_at


def test_a_download_reports_bytes_speed_and_time_left_then_the_model_loads(hub: FakeHub) -> None:
    hub.slow[WEIGHTS] = 0.002
    events: list[ProgressEvent] = []
    folder = hub_model_folder(REPO_ID, events.append)

    assert {event.phase for event in events} == {Phase.DOWNLOAD}
    fractions = [event.fraction for event in events]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert re.fullmatch(r"Downloading someone/tiny-chat: (\d+) of \1 MB, [\d.]+ MB/s, 0:00 left", events[-1].message)
    midway = [event for event in events[1:-1] if event.eta_s is not None]
    assert midway, [event.message for event in events]
    assert re.search(r": \d+ of \d+ MB, [\d.]+ MB/s, \d+:\d\d left$", midway[0].message)
    assert len(events) <= 5 * events[-1].elapsed_s + 3  # throttled: about five a second
    assert {"config.json", WEIGHTS, "tokenizer.json"} <= {path.name for path in folder.iterdir()}

    asked = len(hub.requests)
    loaded = load_model(ModelSettings(model=REPO_ID, quantization="none"))
    assert loaded.name == REPO_ID
    assert len(hub.requests) == asked  # complete in the cache: loaded without the network


def test_only_safetensors_json_and_tokenizer_files_are_fetched(hub: FakeHub, repo_files: dict[str, bytes]) -> None:
    folder = hub_model_folder(REPO_ID)
    fetched = {request.path.rsplit("/", 1)[-1] for request in hub.requests if "/resolve/" in request.path}
    assert fetched == set(repo_files) - NEVER_FETCHED
    assert not NEVER_FETCHED & {path.name for path in folder.iterdir()}


def test_a_cancel_mid_file_stops_promptly_and_leaves_no_half_model_in_use(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _cancel_in_the_weights(hub) < 2.0  # one 10 MB chunk at this speed takes about 0.4 s
    storage = _storage(tmp_path)
    assert not (storage / "refs" / "main").exists()
    assert [p.stat().st_size for p in (storage / "blobs").glob("*.incomplete")] == [_chunk()]

    use_hub(monkeypatch, UNREACHABLE, tmp_path / "hf")
    with pytest.raises(ModelError, match="is not on this computer yet and Hugging Face cannot be reached"):
        hub_model_folder(REPO_ID)


def test_a_cancelled_download_goes_on_from_the_bytes_on_disk(
    hub: FakeHub, tmp_path: Path, repo_files: dict[str, bytes]
) -> None:
    _cancel_in_the_weights(hub)
    (partial,) = (_storage(tmp_path) / "blobs").glob("*.incomplete")
    on_disk, asked = partial.stat().st_size, len(hub.requests)
    hub.slow.clear()

    folder = hub_model_folder(REPO_ID)
    again = {request.path.rsplit("/", 1)[-1]: request for request in hub.requests[asked:] if request.method == "GET"}
    assert again[WEIGHTS].range == f"bytes={on_disk}-"
    assert again[WEIGHTS].served == len(repo_files[WEIGHTS]) - on_disk
    finished = {name for name in repo_files if name < WEIGHTS} - NEVER_FETCHED  # fetched in listing order
    assert finished and not finished & set(again)
    assert (folder / WEIGHTS).read_bytes() == repo_files[WEIGHTS]
    assert (folder / WEIGHTS).read_bytes() == repo_files[WEIGHTS]


def test_a_broken_connection_goes_on_from_the_bytes_on_disk(hub: FakeHub, repo_files: dict[str, bytes]) -> None:
    hub.cut_after[WEIGHTS] = 15_000_000  # one 10 MB chunk on disk, the next one half received
    folder = hub_model_folder(REPO_ID)

    size = len(repo_files[WEIGHTS])
    assert [request.range for request in hub.gets(WEIGHTS)] == [None, f"bytes={_chunk()}-"]
    assert hub.served[WEIGHTS] == 15_000_000 + size - _chunk()
    assert (folder / WEIGHTS).read_bytes() == repo_files[WEIGHTS]


def test_a_gated_model_says_how_to_get_access(hub: FakeHub) -> None:
    with pytest.raises(ModelError, match=r"someone/gated-chat is gated: accept its licence .* access token"):
        hub_model_folder("someone/gated-chat")


def test_a_model_the_hub_does_not_know_is_named_as_such(hub: FakeHub) -> None:
    with pytest.raises(ModelError, match="There is no model 'someone/no-such-model' on Hugging Face"):
        hub_model_folder("someone/no-such-model")


def test_a_sharded_model_with_a_shard_missing_is_not_complete(tmp_path: Path) -> None:
    from ditto_desk.core.models.hub import _loadable

    shards = [f"model-0000{i}-of-00002.safetensors" for i in (1, 2)]
    for name in ("config.json", "tokenizer.json", shards[0]):
        (tmp_path / name).write_text("{}")
    index = {"metadata": {}, "weight_map": {"a.weight": shards[0], "b.weight": shards[1]}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    assert not _loadable(tmp_path)
    (tmp_path / shards[1]).write_text("{}")
    assert _loadable(tmp_path)
