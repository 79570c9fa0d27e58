"""Profiles on disk: naming, round trips, the all-or-nothing adapter commit, damage detection."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from ditto_desk.core import atomic
from ditto_desk.core.atomic import atomic_write_bytes, atomic_write_json
from ditto_desk.core.errors import DiskFullError, ProfileError
from ditto_desk.core.export.adapter import export_adapter
from ditto_desk.core.places import default_profiles_root
from ditto_desk.core.profiles import profile as profile_folder
from ditto_desk.core.profiles import store as profiles
from ditto_desk.core.profiles.adapter_folder import ADAPTER_CONFIG, ADAPTER_WEIGHTS, MANIFEST, TRAINING_LOG
from ditto_desk.core.profiles.lock import LOCKS_DIR
from ditto_desk.core.profiles.profile import Profile
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.texts.demonstration import Demonstration

REPO = Path(__file__).resolve().parents[1]


def adapter_writer(value: float, *, fail_after_weights: bool = False) -> Callable[[Path], None]:
    """A stand-in for ``peft_model.save_pretrained(tmpdir)``: a tiny LoRA-shaped safetensors + config."""

    def write_files(folder: Path) -> None:
        save_file({"lora_A.weight": torch.full((4, 8), value)}, str(folder / ADAPTER_WEIGHTS))
        if fail_after_weights:
            raise RuntimeError("boom while saving")
        (folder / ADAPTER_CONFIG).write_text(json.dumps({"peft_type": "LORA", "r": 4}), encoding="utf-8")

    return write_files


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder (None) under root, but the lock files (not profile data)."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
        if LOCKS_DIR not in p.relative_to(root).parts
    }


@pytest.fixture
def store(tmp_path: Path) -> ProfileStore:
    return ProfileStore(tmp_path / "profiles")


@pytest.fixture
def trained(store: ProfileStore) -> Profile:
    """A profile with demonstrations and one committed adapter."""
    p = store.create("Alice")
    p.save_demonstrations([Demonstration(text="Hi there,\nAlice", prompt="greet")])
    p.commit_adapter(adapter_writer(1.0), [{"step": 1, "loss": 2.5}])
    return p


# -- root, names, create/list/rename/delete -------------------------------------------------------------


def test_default_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DITTO_DESK_HOME", str(tmp_path))
    assert default_profiles_root() == tmp_path / "profiles"
    monkeypatch.delenv("DITTO_DESK_HOME")
    root = default_profiles_root()
    assert root.name == "profiles" and "ditto-desk" in str(root)


def test_create_list_load(store: ProfileStore) -> None:
    assert store.list() == []  # root doesn't exist yet
    alice = store.create("Alice")
    store.create("bob")
    store.create("Émile")
    assert store.list() == ["Alice", "bob", "Émile"]
    assert {p.name for p in alice.path.iterdir()} == {
        "profile.json",
        "demonstrations.json",
        "settings.json",
        "adapters",
    }
    meta = json.loads((alice.path / "profile.json").read_text())
    assert meta["format"] == 1 and meta["name"] == "Alice" and meta["active_adapter"] is None
    assert meta["created"]
    loaded = store.load("alice")  # case-insensitive lookup gives the real name
    assert loaded.name == "Alice" and loaded.demonstrations == []
    assert not loaded.has_adapter and loaded.training_log == [] and loaded.active_adapter_dir is None
    assert store.exists("ALICE") and not store.exists("carol")
    # Hidden leftovers (a half-built profile, the trash) never show up.
    (store.root / ".tmp-123").mkdir()
    (store.root / "not-a-profile").mkdir()
    assert store.list() == ["Alice", "bob", "Émile"]


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "enter a name"),
        ("   ", "enter a name"),
        ("a/b", "path separators"),
        ("a\\b", "path separators"),
        (".", "can't be used"),
        ("..", "can't be used"),
        ("x" * 81, "at most 80"),
        (".hidden", "start with a dot"),
        ("tab\there", "control characters"),
        ("CON", "reserved"),
        ("what?", "path separators"),
        ("evil\u202etxt.exe", "invisible characters"),  # would list as "evilexe.txt"
        ("a\u200bb", "invisible characters"),  # would list as "ab"
        ("\u200b", "invisible characters"),
        ("\u200dx", "invisible characters"),
        ("x\ud800y", "invisible characters"),  # a lone surrogate
    ],
)
def test_bad_names_refused(store: ProfileStore, name: str, fragment: str) -> None:
    with pytest.raises(ProfileError, match=fragment):
        store.create(name)
    assert store.list() == []


def test_a_joiner_between_letters_is_part_of_a_name(store: ProfileStore) -> None:
    assert store.create("می\u200cخواهم").name == "می\u200cخواهم"  # Persian writes the non-joiner inside words


def test_name_limits_and_duplicates(store: ProfileStore) -> None:
    assert store.create("x" * 80).name == "x" * 80
    assert store.create("  Alice ").name == "Alice"  # surrounding spaces dropped
    with pytest.raises(ProfileError, match="'Alice' already exists"):
        store.create("alice")
    (store.root / "junk").mkdir()
    with pytest.raises(ProfileError, match="not a usable profile"):
        store.create("JUNK")
    assert store.exists("ALICE") and store.load("ALICE").name == "Alice"  # found whatever the case


def test_rename(store: ProfileStore) -> None:
    store.create("Alice").save_demonstrations([Demonstration(text="kept across the rename")])
    store.create("Bob")
    store.rename("alice", "Carol")
    assert store.list() == ["Bob", "Carol"]
    carol = store.load("Carol")
    assert [d.text for d in carol.demonstrations] == ["kept across the rename"]
    assert json.loads((carol.path / "profile.json").read_text())["name"] == "Carol"
    with pytest.raises(ProfileError, match="already exists"):
        store.rename("Carol", "bob")
    with pytest.raises(ProfileError, match="path separators"):
        store.rename("Carol", "../x")
    with pytest.raises(ProfileError, match="no profile named 'Nobody'"):
        store.rename("Nobody", "X")
    store.rename("Carol", "CAROL")  # changing only the case is allowed
    assert store.list() == ["Bob", "CAROL"]


def test_delete(store: ProfileStore, trained: Profile) -> None:
    store.create("Bob")
    store.delete("alice")
    assert store.list() == ["Bob"]
    assert sorted(p.name for p in store.root.iterdir()) == [LOCKS_DIR, "Bob"]  # trash emptied too
    with pytest.raises(ProfileError, match="no profile named"):
        store.delete("Alice")
    with pytest.raises(ProfileError, match="no profile named"):
        store.load("Alice")


# -- round trips ---------------------------------------------------------------------------------------


def test_demonstrations_round_trip(store: ProfileStore) -> None:
    p = store.create("Alice")
    demos = [
        Demonstration(text="Dear Sam,\n\nThanks — see you Tuesday.\n\nA.", prompt="reply to Sam"),
        Demonstration(text="Same prompt, other text", prompt="reply to Sam", source="file"),
    ]
    p.save_demonstrations(demos)
    assert p.demonstrations == demos
    assert store.load("Alice").demonstrations == demos


# -- the adapter commit --------------------------------------------------------------------------------


def test_commit_adapter_swaps_and_cleans(store: ProfileStore, trained: Profile) -> None:
    first = trained.active_adapter_dir
    assert first is not None and first.parent == trained.path / "adapters"
    manifest = json.loads((first / MANIFEST).read_text())
    assert set(manifest["files"]) == {ADAPTER_WEIGHTS, ADAPTER_CONFIG, TRAINING_LOG}
    assert manifest["files"][ADAPTER_WEIGHTS]["size"] == (first / ADAPTER_WEIGHTS).stat().st_size
    assert trained.training_log == [{"step": 1, "loss": 2.5}]

    stale = trained.path / "adapters" / ".tmp-crashed"
    stale.mkdir()
    (stale / ADAPTER_WEIGHTS).write_bytes(b"half")
    assert store.load("Alice").active_adapter_dir == first  # stray tmp dirs are ignored on load

    second = trained.commit_adapter(adapter_writer(2.0), [{"step": 1}, {"step": 2}])
    assert second != first and trained.active_adapter_dir == second
    # The stale folder is gone; the first adapter stays as a version to go back to.
    assert sorted(p.name for p in (trained.path / "adapters").iterdir()) == [first.name, second.name]
    loaded = store.load("Alice")
    assert loaded.active_adapter_dir == second and loaded.has_adapter
    assert loaded.training_log == [{"step": 1}, {"step": 2}]
    assert json.loads((trained.path / "profile.json").read_text())["active_adapter"] == second.name


def test_export_adapter(tmp_path: Path, store: ProfileStore, trained: Profile) -> None:
    with pytest.raises(ProfileError, match="no trained adapter"):
        export_adapter(store.create("Bob"), tmp_path / "out")
    dest = export_adapter(trained, tmp_path / "out" / "alice-adapter")
    assert sorted(p.name for p in dest.iterdir()) == [ADAPTER_CONFIG, ADAPTER_WEIGHTS]
    src = trained.active_adapter_dir
    assert src is not None
    for name in (ADAPTER_CONFIG, ADAPTER_WEIGHTS):
        assert (dest / name).read_bytes() == (src / name).read_bytes()


def test_an_export_never_writes_over_what_is_there(tmp_path: Path, store: ProfileStore, trained: Profile) -> None:
    """A kept version's folder, any folder with files, an existing file or a device are refused, and left as
    they were; an export that fails on the way leaves nothing half-written."""
    from ditto_desk.core.export.archive import export_archive

    version = trained.active_adapter_dir
    assert version is not None
    before = snapshot(store.root)
    with pytest.raises(ProfileError, match="already exists and is not an empty folder"):
        export_adapter(trained, version)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "mine.txt").write_text("keep me")
    with pytest.raises(ProfileError, match="not an empty folder"):
        export_adapter(trained, notes)
    mine = tmp_path / "thesis.zip"
    mine.write_bytes(b"not an archive of ours")
    for existing in (mine, Path("/dev/null"), notes):
        with pytest.raises(ProfileError, match="already exists"):
            export_archive(trained, existing)
    with pytest.raises(ProfileError, match="a special file"):
        export_archive(trained, Path("/dev/null"), replace=True)
    assert snapshot(store.root) == before and mine.read_bytes() == b"not an archive of ours"
    assert [p.name for p in notes.iterdir()] == ["mine.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert sorted(p.name for p in export_adapter(trained, empty).iterdir()) == [ADAPTER_CONFIG, ADAPTER_WEIGHTS]
    assert export_archive(trained, mine, replace=True) == mine and mine.read_bytes()[:2] == b"PK"


def test_failing_write_files_changes_nothing(store: ProfileStore, trained: Profile) -> None:
    before = snapshot(store.root)
    old_dir, old_log = trained.active_adapter_dir, trained.training_log
    with pytest.raises(RuntimeError, match="boom"):
        trained.commit_adapter(adapter_writer(3.0, fail_after_weights=True), [{"step": 9}])
    assert snapshot(store.root) == before
    assert trained.active_adapter_dir == old_dir and trained.training_log == old_log


def test_incomplete_adapter_refused(store: ProfileStore) -> None:
    p = store.create("Alice")
    before = snapshot(store.root)

    def garbage(folder: Path) -> None:
        (folder / ADAPTER_WEIGHTS).write_bytes(b"\xff" * 100)
        (folder / ADAPTER_CONFIG).write_text("{}")

    with pytest.raises(ProfileError, match="not a valid safetensors"):
        p.commit_adapter(garbage, [])
    with pytest.raises(ProfileError, match="adapter_config.json is missing"):
        p.commit_adapter(lambda f: save_file({"a": torch.zeros(2)}, str(f / ADAPTER_WEIGHTS)), [])
    assert snapshot(store.root) == before and not p.has_adapter


_CRASH_SCRIPT = r"""
import os, sys
from pathlib import Path
import ditto_desk.core.profiles.profile as F
from ditto_desk.core.profiles.adapter_folder import ADAPTER_CONFIG, ADAPTER_WEIGHTS
from ditto_desk.core.profiles.profile import PROFILE_FILE
from ditto_desk.core.profiles.store import ProfileStore

root, mode = Path(sys.argv[1]), sys.argv[2]
profile = ProfileStore(root).load("Alice")
header = b'{"__metadata__":{}}'

def write_files(folder):
    (folder / ADAPTER_WEIGHTS).write_bytes(len(header).to_bytes(8, "little") + header)
    if mode == "mid-write":
        os._exit(1)  # killed half-way through save_pretrained
    (folder / ADAPTER_CONFIG).write_text("{}")

real_write_json = F.atomic_write_json

def dying_write_json(path, obj):
    if Path(path).name == PROFILE_FILE:
        os._exit(1)  # killed after the new adapter folder is in place, just before the commit point
    real_write_json(path, obj)

F.atomic_write_json = dying_write_json
profile.commit_adapter(write_files, [{"step": 1}])
os._exit(0)
"""


@pytest.mark.parametrize("mode", ["mid-write", "before-commit"])
def test_killed_commit_keeps_old_adapter(store: ProfileStore, trained: Profile, mode: str) -> None:
    old = trained.active_adapter_dir
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, "-c", _CRASH_SCRIPT, str(store.root), mode], env=env, capture_output=True, timeout=60
    )
    assert proc.returncode == 1, proc.stderr.decode()
    leftovers = sorted(p.name for p in (trained.path / "adapters").iterdir())
    assert len(leftovers) == 2  # the old adapter and the crashed attempt

    loaded = store.load("Alice")
    assert loaded.active_adapter_dir == old and loaded.training_log == [{"step": 1, "loss": 2.5}]
    loaded.verify()

    assert loaded.versions() == [old.name]  # the crashed attempt's folder is no version
    new = loaded.commit_adapter(adapter_writer(4.0), [])
    assert sorted(p.name for p in (trained.path / "adapters").iterdir()) == [old.name, new.name]  # debris cleaned


# -- damage detection ----------------------------------------------------------------------------------


def _adapter(p: Profile) -> Path:
    assert p.active_adapter_dir is not None
    return p.active_adapter_dir


def _truncate_weights(p: Profile) -> None:
    f = _adapter(p) / ADAPTER_WEIGHTS
    f.write_bytes(f.read_bytes()[:50])


def _flip_byte_in_weights(p: Profile) -> None:
    f = _adapter(p) / ADAPTER_WEIGHTS
    data = bytearray(f.read_bytes())
    data[-1] ^= 0xFF
    f.write_bytes(bytes(data))


def _set_profile_json(p: Profile, **changes: object) -> None:
    f = p.path / "profile.json"
    f.write_text(json.dumps({**json.loads(f.read_text()), **changes}))


DAMAGE: dict[str, tuple[Callable[[Profile], None], str]] = {
    "truncated weights": (_truncate_weights, r"damaged \(file adapter_model.safetensors changed or is incomplete"),
    "flipped byte": (_flip_byte_in_weights, "adapter_model.safetensors changed or is incomplete"),
    "edited training log": (
        lambda p: (_adapter(p) / TRAINING_LOG).write_text('[{"step": 7}]'),
        "training-log.json changed",
    ),
    "config deleted": (lambda p: (_adapter(p) / ADAPTER_CONFIG).unlink(), "adapter_config.json is missing"),
    "adapter dir deleted": (lambda p: profiles.shutil.rmtree(_adapter(p)), "adapter .* is missing"),
    "manifest garbage": (lambda p: (_adapter(p) / MANIFEST).write_text("{oops"), "manifest.json is not valid"),
    "profile.json corrupt": (
        lambda p: (p.path / "profile.json").write_bytes(b'{"format": 1, "na'),
        "profile.json is not valid JSON",
    ),
    "profile.json missing": (lambda p: (p.path / "profile.json").unlink(), "profile.json is missing"),
    "profile.json a list": (lambda p: (p.path / "profile.json").write_text("[]"), "profile.json holds a list"),
    "newer format": (lambda p: _set_profile_json(p, format=99), "newer version of Ditto Desk"),
    "escaping adapter name": (
        lambda p: _set_profile_json(p, active_adapter="../../x"),
        "profile.json names an invalid adapter folder",
    ),
    "demonstrations not a list": (
        lambda p: (p.path / "demonstrations.json").write_text('{"text": "hi"}'),
        "demonstrations.json holds an object instead of a list",
    ),
    "demonstration without text": (
        lambda p: (p.path / "demonstrations.json").write_text('[{"prompt": "x"}]'),
        "entry 1 of demonstrations.json is not a valid demonstration",
    ),
    "settings bad json": (lambda p: (p.path / "settings.json").write_text("{,}"), "settings.json is not valid"),
    "settings a list": (lambda p: (p.path / "settings.json").write_text("[]"), "settings.json holds a list"),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damage_is_reported(store: ProfileStore, trained: Profile, kind: str) -> None:
    damage, fragment = DAMAGE[kind]
    damage(trained)
    with pytest.raises(ProfileError, match=fragment) as info:
        store.load("Alice")
    message = str(info.value)
    assert "Alice" in message
    # Every message says what to do, not only what went wrong.
    assert any(word in message for word in ("Retrain", "Restore", "restore", "Update", "Fix"))


def test_unverified_load_then_verify(store: ProfileStore, trained: Profile) -> None:
    _flip_byte_in_weights(trained)  # same size: only the hash can tell
    quick = store.load("Alice", verify=False)
    assert quick.has_adapter
    with pytest.raises(ProfileError, match="changed or is incomplete"):
        quick.verify()
    with pytest.raises(ProfileError, match="damaged"):
        export_adapter(quick, store.root.parent / "out")


# -- a full disk ---------------------------------------------------------------------------------------


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """os.write accepts a few bytes, then fails with ENOSPC, like a disk filling up mid-write."""
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        if len(data) > 4:
            real_write(fd, bytes(data[:4]))
            return 4
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", write)


def test_disk_full_atomic_write(tmp_path: Path, full_disk: None) -> None:
    target = tmp_path / "f.json"
    target.write_bytes(b"old contents")
    with pytest.raises(DiskFullError, match="disk is full.*Nothing was changed") as info:
        atomic_write_json(target, {"new": "x" * 100})
    assert info.value.errno == errno.ENOSPC
    with pytest.raises(DiskFullError):
        atomic_write_bytes(tmp_path / "new.bin", b"0123456789")
    assert target.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]  # no temp files left behind


def test_disk_full_save_leaves_old_file(store: ProfileStore, trained: Profile, monkeypatch) -> None:
    before = snapshot(store.root)
    old_demos = list(trained.demonstrations)
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    with pytest.raises(ProfileError, match="disk is full: could not save the demonstrations.*Nothing was"):
        trained.save_demonstrations([Demonstration(text="new")])
    with pytest.raises(ProfileError, match="disk is full: could not save the trained adapter"):
        trained.commit_adapter(adapter_writer(5.0), [])  # fails writing training-log.json
    monkeypatch.setattr(os, "write", real_write)
    assert snapshot(store.root) == before
    assert trained.demonstrations == old_demos
    assert store.load("Alice").demonstrations == old_demos


def test_disk_full_at_commit_point(store: ProfileStore, trained: Profile, monkeypatch) -> None:
    """ENOSPC on the profile.json replace itself (after the new adapter folder is in place)."""
    before = snapshot(store.root)
    real = profile_folder.atomic_write_json

    def write_json(path: Path, obj: object) -> None:
        if Path(path).name == "profile.json":
            raise atomic.write_error(path, OSError(errno.ENOSPC, "No space left on device"))
        real(path, obj)

    monkeypatch.setattr(profile_folder, "atomic_write_json", write_json)
    with pytest.raises(ProfileError, match="disk is full"):
        trained.commit_adapter(adapter_writer(6.0), [])
    assert snapshot(store.root) == before


def test_disk_full_inside_save_pretrained(store: ProfileStore, trained: Profile) -> None:
    before = snapshot(store.root)

    def write_files(folder: Path) -> None:
        (folder / ADAPTER_WEIGHTS).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(ProfileError, match="disk is full"):
        trained.commit_adapter(write_files, [])
    assert snapshot(store.root) == before


# -- versions and undo ------------------------------------------------------------------------------------


def test_undo_brings_back_the_previous_style_bit_for_bit(store: ProfileStore, trained: Profile) -> None:
    first = trained.active_adapter_dir
    assert first is not None
    before = {p.name: p.read_bytes() for p in first.iterdir()}
    second = trained.commit_adapter(adapter_writer(2.0), [{"step": 9}])
    assert trained.versions() == [second.name, first.name]
    assert trained.undo() == first.name
    assert trained.active_adapter_dir == first and trained.training_log == [{"step": 1, "loss": 2.5}]
    assert {p.name: p.read_bytes() for p in first.iterdir()} == before
    assert store.load("Alice").active_adapter_dir == first  # on disk too
    with pytest.raises(ProfileError, match="no earlier learned style"):
        trained.undo()
    trained.use_version(second.name)  # and forward again
    assert store.load("Alice").active_adapter_dir == second


def test_undo_goes_back_to_what_the_version_was_made_from(store: ProfileStore, trained: Profile) -> None:
    """Learn, update, undo, update again, undo: back to the first style, not to the update undone before."""
    first = trained.active_adapter_dir
    assert first is not None
    undone = trained.commit_adapter(adapter_writer(2.0), [{"step": 2}])
    assert trained.undo() == first.name
    trained.commit_adapter(adapter_writer(3.0), [{"step": 3}])
    assert undone.name in trained.versions()
    assert store.load("Alice").undo() == first.name


def test_the_newest_versions_and_the_pinned_ones_are_kept(store: ProfileStore, trained: Profile) -> None:
    from ditto_desk.core.profiles.versions import KEPT_VERSIONS

    first = trained.active_adapter_dir
    assert first is not None
    trained.pin(first.name)
    for value in range(KEPT_VERSIONS + 2):
        trained.commit_adapter(adapter_writer(float(value)), [{"run": value}])
    versions = store.load("Alice").versions()
    assert len(versions) == KEPT_VERSIONS + 1 and first.name in versions  # the pinned one outlives the cap
    assert store.load("Alice").pinned == [first.name]
    trained.pin(first.name, pinned=False)
    trained.commit_adapter(adapter_writer(9.0), [{"run": 9}])
    assert first.name not in store.load("Alice").versions()


def test_a_damaged_version_is_not_made_current(store: ProfileStore, trained: Profile) -> None:
    first = trained.active_adapter_dir
    assert first is not None
    second = trained.commit_adapter(adapter_writer(2.0), [{"step": 9}])
    (first / ADAPTER_WEIGHTS).write_bytes(b"damaged")
    with pytest.raises(ProfileError):
        trained.undo()
    assert store.load("Alice").active_adapter_dir == second  # still the style it had


def test_the_history_lists_each_version_and_names_a_damaged_one(store: ProfileStore, trained: Profile) -> None:
    from ditto_desk.core.profiles.history import history

    first = trained.active_adapter_dir
    assert first is not None
    header = {"phase": "summary", "finished": "2026-11-29T10:00:00+00:00", "demonstrations": 1, "model": {"name": "m"}}
    trained.commit_adapter(adapter_writer(2.0), [header, {"phase": "sft", "step": 1, "loss": 1.5}])
    (first / MANIFEST).write_text("not json")
    newest, older = history(store.load("Alice", verify=False))
    assert newest.current and newest.record is not None and newest.record.demonstrations == 1
    assert newest.last_sft_loss == 1.5
    assert "learned 2026-11-29T10:00:00+00:00 with m from 1 text; SFT loss 1.50" in newest.describe()
    assert older.version == first.name and older.problem and not older.current
