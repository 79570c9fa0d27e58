"""Two writers on one profile, and an interrupt right after the commit point: run for real, in other
processes, and checked the way a user would: does the profile open, with the adapter it names?"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ditto_desk.cli.exit_codes import EXIT_BAD_INPUT
from ditto_desk.cli.main import main
from ditto_desk.core.errors import ProfileError
from ditto_desk.core.jobs import train_profile
from ditto_desk.core.models.settings import ModelSettings
from ditto_desk.core.profiles.adapter_folder import ADAPTERS_DIR
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.texts.demonstration import Demonstration

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}

# A stand-in for save_pretrained that takes a while (as the real one does), so two commits overlap.
_PRELUDE = r"""
import json, os, signal, sys, time
from pathlib import Path
from ditto_desk.core.profiles.adapter_folder import ADAPTER_CONFIG, ADAPTER_WEIGHTS
from ditto_desk.core.profiles.profile import PROFILE_FILE
from ditto_desk.core.profiles.store import ProfileStore

root, who, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
profile = ProfileStore(root).load("Alice")
header = b'{"__metadata__":{}}'

def write_files(folder):
    (folder / ADAPTER_WEIGHTS).write_bytes(len(header).to_bytes(8, "little") + header)
    time.sleep(0.3)
    (folder / ADAPTER_CONFIG).write_text(json.dumps({"peft_type": "LORA", "writer": who}))

(root.parent / f"ready-{who}").touch()
while not go.exists():
    time.sleep(0.005)
"""

_SAVER = (
    _PRELUDE
    + r"""
for i in range(3):
    profile.commit_adapter(write_files, [{"writer": who, "round": i}])
"""
)

_HOLDER = (
    _PRELUDE
    + r"""
with profile.training():  # a training run on this profile, in another window or a terminal
    (root.parent / f"holding-{who}").touch()
    while not (root.parent / "stop").exists():
        time.sleep(0.01)
"""
)


@pytest.fixture
def store(tmp_path: Path) -> ProfileStore:
    store = ProfileStore(tmp_path / "profiles")
    store.create("Alice").save_demonstrations([Demonstration(text="Hi there, see you soon. Alice")])
    return store


def _start(script: str, store: ProfileStore, who: str) -> subprocess.Popen[bytes]:
    go = store.root.parent / "go"
    return subprocess.Popen(
        [sys.executable, "-c", script, str(store.root), who, str(go)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for(path: Path, procs: list[subprocess.Popen[bytes]], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        for proc in procs:
            assert proc.poll() is None, proc.communicate()[1].decode()
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.01)


def test_two_processes_saving_one_profile_leave_a_working_profile(store: ProfileStore) -> None:
    procs = [_start(_SAVER, store, who) for who in ("window", "terminal")]
    for who in ("window", "terminal"):
        _wait_for(store.root.parent / f"ready-{who}", procs)
    (store.root.parent / "go").touch()  # both start saving at the same moment
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()  # every save succeeded: the second one waited its turn

    alice = store.load("Alice")  # opens, and every file of the adapter it names is there and intact
    assert alice.has_adapter and alice.active_adapter_dir is not None
    alice.verify()
    assert alice.training_log[0]["round"] == 2  # the last save of whichever finished last
    on_disk = sorted((p.name for p in (alice.path / ADAPTERS_DIR).iterdir()), reverse=True)
    assert on_disk == alice.versions() and alice.versions()[0] == alice.active_adapter_dir.name  # kept versions
    assert len(alice.demonstrations) == 1


def test_a_profile_trained_elsewhere_is_refused_at_once(
    store: ProfileStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ditto_desk.core.profiles import profile as profile_folder
    from ditto_desk.core.profiles import store as profiles

    holder = _start(_HOLDER, store, "terminal")
    (store.root.parent / "go").touch()
    try:
        _wait_for(store.root.parent / "holding-terminal", [holder])
        no_model = tmp_path / "no-model"
        no_model.mkdir()  # loading it would fail: the refusal must come before the model is loaded
        started = time.monotonic()
        with pytest.raises(ProfileError, match="'Alice' is being trained or saved elsewhere"):
            train_profile(store, "Alice", ModelSettings(str(no_model)), None)  # type: ignore[arg-type]
        assert time.monotonic() - started < 5

        # Saving, deleting or renaming it meanwhile waits a little, then says why not; nothing changes.
        monkeypatch.setattr(profile_folder, "COMMIT_WAIT_S", 0.3)
        monkeypatch.setattr(profiles, "_BUSY_WAIT_S", 0.3)
        with pytest.raises(ProfileError, match="being trained or saved elsewhere"):
            store.load("Alice").commit_adapter(lambda folder: None, [])
        assert main(["--profiles-dir", str(store.root), "profiles", "delete", "Alice"]) == EXIT_BAD_INPUT
        assert "being trained or saved elsewhere" in capsys.readouterr().err
        with pytest.raises(ProfileError, match="being trained or saved elsewhere"):
            store.rename("Alice", "Bob")
        assert store.list() == ["Alice"] and not store.load("Alice").has_adapter
    finally:
        (store.root.parent / "stop").touch()
        holder.communicate(timeout=60)
    assert holder.returncode == 0
    store.delete("Alice")  # free again once the other run is over
    assert store.list() == []


_INTERRUPTED = r"""
import os, signal, sys
from pathlib import Path
from ditto_desk.core.profiles.adapter_folder import ADAPTER_CONFIG, ADAPTER_WEIGHTS
from ditto_desk.core.profiles.profile import PROFILE_FILE
from ditto_desk.core.profiles.store import ProfileStore

profile = ProfileStore(Path(sys.argv[1])).load("Alice")
header = b'{"__metadata__":{}}'

def write_files(folder):
    (folder / ADAPTER_WEIGHTS).write_bytes(len(header).to_bytes(8, "little") + header)
    (folder / ADAPTER_CONFIG).write_text("{}")

real_replace = os.replace

def replace(src, dst, **kwargs):
    real_replace(src, dst, **kwargs)
    if Path(dst).name == PROFILE_FILE:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl+C pressed just as profile.json was replaced

os.replace = replace
profile.commit_adapter(write_files, [{"run": "new"}])
print("the save finished before the interrupt arrived")
"""


def test_an_interrupt_right_after_the_commit_point_keeps_the_new_adapter(store: ProfileStore) -> None:
    old = store.load("Alice")
    old.commit_adapter(lambda f: _tiny_adapter(f), [{"run": "old"}])
    proc = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED, str(store.root)], env=ENV, capture_output=True, timeout=60
    )
    assert proc.returncode != 0 and b"KeyboardInterrupt" in proc.stderr, proc.stdout + proc.stderr

    alice = store.load("Alice")  # profile.json names the new adapter, and it is all there
    assert alice.training_log == [{"run": "new"}]
    alice.verify()
    meta = json.loads((alice.path / "profile.json").read_text())
    assert alice.active_adapter_dir is not None and meta["active_adapter"] == alice.active_adapter_dir.name


def _tiny_adapter(folder: Path) -> None:
    header = b'{"__metadata__":{}}'
    (folder / "adapter_model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header)
    (folder / "adapter_config.json").write_text("{}")


def test_choosing_a_version_during_a_training_elsewhere_is_refused_in_seconds(store: ProfileStore) -> None:
    """Pinning or going back to a version needs the profile for a moment; a training holds it for minutes, so
    the answer comes at once rather than after half a minute of silence."""
    alice = store.load("Alice")
    version = alice.commit_adapter(_tiny_adapter, []).name
    holder = _start(_HOLDER, store, "terminal")
    (store.root.parent / "go").touch()
    try:
        _wait_for(store.root.parent / "holding-terminal", [holder])
        for choose in (lambda: alice.pin(version), lambda: alice.use_version(version)):
            started = time.monotonic()
            with pytest.raises(ProfileError, match="being trained or saved elsewhere"):
                choose()
            assert time.monotonic() - started < 5
        assert not store.load("Alice").pinned
    finally:
        (store.root.parent / "stop").touch()
        holder.communicate(timeout=60)
