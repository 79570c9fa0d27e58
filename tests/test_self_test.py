"""`ditto-desk --self-test`, the installed app's smoke test: the bundled model writes, the profiles folder takes
a file, and what was found is printed; a profiles folder that can't be written fails with a clear message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ditto_desk.cli.exit_codes import EXIT_FAILED, EXIT_OK
from ditto_desk.cli.main import main as cli_main


@pytest.mark.e2e
def test_self_test_loads_the_bundled_model_and_writes(bundled_model_dir: Path, tmp_path: Path, capsys) -> None:
    profiles = tmp_path / "profiles"
    assert cli_main(["--profiles-dir", str(profiles), "--self-test"]) == EXIT_OK
    out = capsys.readouterr().out
    for name in ("python", "torch", "transformers", "peft", "trl", "PySide6"):
        assert f"\n{name}: " in out
    assert "PySide6: not installed" not in out
    assert f"profiles folder: {profiles}" in out and "profiles folder writable: yes" in out
    assert f"model cache: {os.environ['DITTO_DESK_CACHE']}" in out
    assert "model: SmolLM2-135M-Instruct" in out and "device: " in out and "quantization: " in out
    assert "generated " in out and out.rstrip().endswith("Self-test passed.")
    assert list(profiles.iterdir()) == []  # the probe file is gone again


def test_self_test_fails_clearly_when_the_profiles_folder_cannot_be_written(tmp_path: Path, capsys) -> None:
    # A file where the folder should be: unwritable even for root, which ignores permission bits.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    assert cli_main(["--profiles-dir", str(blocker / "profiles"), "--self-test"]) == EXIT_FAILED
    captured = capsys.readouterr()
    assert f"Self-test failed: The profiles folder {blocker / 'profiles'} is not writable" in captured.err
    assert "--profiles-dir" in captured.err  # it says how to choose another one
    assert "model:" not in captured.out  # it stops before loading the model


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_self_test_fails_on_a_read_only_profiles_folder(tmp_path: Path, capsys) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    profiles.chmod(0o500)
    try:
        assert cli_main(["--profiles-dir", str(profiles), "--self-test"]) == EXIT_FAILED
    finally:
        profiles.chmod(0o700)
    assert "is not writable (Permission denied)" in capsys.readouterr().err
