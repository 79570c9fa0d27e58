"""Profile files and folders that are wrong in ways a user meets: nested absurdly deep, a profiles folder
that can't be read or is a file, a profile folder that lost its profile.json. Each gets a plain
ProfileError (exit 3 on the command line) whose advice can actually be followed."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ditto_desk.cli.exit_codes import EXIT_BAD_INPUT, EXIT_OK
from ditto_desk.cli.main import main
from ditto_desk.core.errors import ProfileError
from ditto_desk.core.profiles.store import ProfileStore

DEEP = "[" * 100_000 + "]" * 100_000


def _cli(root: Path, *args: str) -> list[str]:
    return ["--profiles-dir", str(root), *args]


@pytest.mark.parametrize("file", ["profile.json", "demonstrations.json", "settings.json"])
def test_a_json_file_nested_100000_deep_is_a_plain_error(tmp_path: Path, file: str, capsys) -> None:
    store = ProfileStore(tmp_path / "profiles")
    store.create("deep")
    (store.root / "deep" / file).write_text(DEEP)
    assert main(_cli(store.root, "profiles", "show", "deep")) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"The profile 'deep' is damaged: {file} is not valid JSON" in err and "nested too deeply" in err
    assert "Traceback" not in err
    if file == "profile.json":  # renaming only touches profile.json's cosmetic copy of the name
        store.rename("deep", "shallow")
        assert store.list() == ["shallow"]


@pytest.fixture
def unreadable_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A profiles folder holding a profile, without read permission. Root ignores permissions, so when the
    tests run as root, listing the folder is made to fail as it would for anyone else."""
    root = tmp_path / "profiles"
    ProfileStore(root).create("x")
    root.chmod(0)
    if os.geteuid() == 0:
        real_scandir = os.scandir

        def scandir(path: object = ".") -> object:
            if Path(os.fspath(path)) == root:  # type: ignore[arg-type]
                raise PermissionError(errno.EACCES, "Permission denied", str(root))
            return real_scandir(path)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "scandir", scandir)
    yield root
    root.chmod(stat.S_IRWXU)


@pytest.mark.parametrize(
    "args",
    [["profiles", "list"], ["profiles", "create", "y"], ["profiles", "show", "x"], ["train", "--profile", "x"]],
    ids=["list", "create", "show", "train"],
)
def test_an_unreadable_profiles_folder_is_reported_as_such(unreadable_root: Path, args: list[str], capsys) -> None:
    assert main(_cli(unreadable_root, *args)) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"Could not read the profiles folder {unreadable_root} (Permission denied)" in err
    assert "permissions" in err and "no profile named" not in err


@pytest.mark.parametrize("args", [["profiles", "list"], ["profiles", "create", "y"], ["profiles", "show", "x"]])
def test_a_profiles_dir_that_is_a_file_is_reported_as_such(tmp_path: Path, args: list[str], capsys) -> None:
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("my notes")
    assert main(_cli(not_a_folder, *args)) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"The profiles folder {not_a_folder} can't be used" in err and "is a file" in err
    assert not_a_folder.read_text() == "my notes"


def test_a_folder_without_profile_json_can_be_deleted_as_advised(tmp_path: Path, capsys) -> None:
    store = ProfileStore(tmp_path / "profiles")
    store.create("broken")
    store.create("fine")
    (store.root / "broken" / "profile.json").unlink()
    assert main(_cli(store.root, "profiles", "show", "broken")) == EXIT_BAD_INPUT
    assert "delete the profile and create it again" in capsys.readouterr().err
    assert main(_cli(store.root, "profiles", "delete", "broken")) == EXIT_OK
    assert not (store.root / "broken").exists() and store.list() == ["fine"]
    assert store.create("broken").name == "broken"  # ... and create it again
    with pytest.raises(ProfileError, match="no profile named 'gone'"):
        store.delete("gone")
