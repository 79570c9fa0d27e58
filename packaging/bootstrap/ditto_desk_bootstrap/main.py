"""The `ditto-desk` command: set up the runtime when it is not ready, then start the app inside it.

    ditto-desk [app arguments]   the app (its window, or a subcommand such as --self-test)
    ditto-desk --setup           build the runtime again (e.g. after adding an NVIDIA GPU), then start the app
    ditto-desk --remove-runtime  delete the runtime and its download cache; profiles stay where they are

The set-up shows its window when a display is there (and Tkinter), else it reports on the terminal.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from .runtime import (
    Bundle,
    Cancelled,
    Event,
    Setup,
    SetupFailed,
    cache_dir,
    clean_env,
    is_ours,
    is_ready,
    nvidia_cuda_version,
    pick_torch_build,
    profiles_dir,
    runtime_dir,
    runtime_python,
)

ICON = "icons/hicolor/64x64/apps/ditto-desk.png"  # under the bundle's app/resources


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Iterator[int | None]:
    """One set-up at a time per user: yields the lock's file descriptor, or None when another one holds it.
    The set-up's installers inherit the descriptor, so the lock lasts while any of them still runs (even if
    this process was killed), and a new start never rebuilds the runtime under a running installer."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # Windows: no lock (one window at a time is the usual case there)
            pass
        except OSError:
            yield None
            return
        yield handle.fileno()


def busy(message: str) -> bool:
    print(message, file=sys.stderr)
    if wants_window():  # started from the menu: a message on the terminal would go unseen
        import tkinter
        from tkinter import messagebox

        root = tkinter.Tk(className="ditto-desk")
        root.withdraw()
        messagebox.showinfo("Ditto Desk", message, parent=root)
        root.destroy()
    return False


def wants_window() -> bool:
    if os.environ.get("DITTO_DESK_SETUP_UI") == "console":
        return False
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        import tkinter  # noqa: F401 - only whether it is there
    except ImportError:
        return False
    return True


def console_setup(make_setup: Callable[[Callable[[Event], None]], Setup]) -> bool:
    def report(event: Event) -> None:
        if event.kind == "step":
            print(f"[{event.index + 1}/{len(titles)}] {event.text}…", file=sys.stderr, flush=True)
        elif event.kind == "line":
            print(f"    {event.text}", file=sys.stderr, flush=True)

    setup = make_setup(report)
    titles = [step[0] for step in setup.steps()]
    print(f"Setting up Ditto Desk in {setup.runtime} (once; log: {setup.log_path})", file=sys.stderr)
    try:
        stamp = setup.run()
    except Cancelled:
        print("Set-up cancelled.", file=sys.stderr)
        return False
    except KeyboardInterrupt:
        setup.cancel()
        print("\nSet-up interrupted; the next start builds it again.", file=sys.stderr)
        return False
    except SetupFailed as exc:
        print(f"Set-up failed: {exc}\nThe full log is in {setup.log_path}", file=sys.stderr)
        return False
    done = f"Ready in {stamp['seconds']} s (torch {stamp['torch']}, installed with {stamp['installer']})."
    print(done, file=sys.stderr)
    return True


def set_up(bundle: Bundle, runtime: Path, force: bool) -> bool:
    with exclusive(runtime.parent / ".setup.lock") as lock:
        if lock is None:
            return busy(
                "Ditto Desk is already being set up (in another window, or an interrupted set-up is still "
                "finishing its current step). Start it again in a minute."
            )
        if is_ready(bundle, runtime) and not force:  # another start finished it while this one waited
            return True
        build = pick_torch_build(nvidia_cuda_version())

        def make_setup(report: Callable[[Event], None]) -> Setup:
            setup = Setup(bundle, runtime, report, build)
            setup.keep_fds = (lock,)
            return setup

        if wants_window():
            from .window import SetupWindow

            return SetupWindow(make_setup, bundle.app_dir / "resources" / ICON).run()
        return console_setup(make_setup)


def remove_runtime(runtime: Path) -> int:
    with exclusive(runtime.parent / ".setup.lock") as lock:
        if lock is None:
            print("A set-up is running; close it first.", file=sys.stderr)
            return 1
        for folder in (runtime, cache_dir() / "uv"):
            if folder.is_dir() and (folder != runtime or is_ours(folder)):
                shutil.rmtree(folder)
                print(f"Removed {folder}")
    print(f"Your profiles are kept in {profiles_dir()}; models you downloaded stay in {cache_dir()}.")
    print("The next start of Ditto Desk sets it up again.")
    return 0


def start_app(bundle: Bundle, runtime: Path, argv: Sequence[str]) -> int:
    python = str(runtime_python(runtime))
    args = [python, str(bundle.root / "bootstrap" / "run_app.py"), *argv]
    if sys.platform == "win32":  # no exec there: wait for the app and pass its exit code on
        return subprocess.run(args, env=clean_env()).returncode
    os.execve(python, args, clean_env())
    return 1  # not reached


def main(argv: Sequence[str]) -> int:
    runtime = runtime_dir()
    if "--remove-runtime" in argv:
        return remove_runtime(runtime)
    force = "--setup" in argv
    argv = [arg for arg in argv if arg != "--setup"]
    bundle = Bundle.here()
    if (force or not is_ready(bundle, runtime)) and not set_up(bundle, runtime, force):
        return 1
    return start_app(bundle, runtime, argv)
