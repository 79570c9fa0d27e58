"""The set-up window (Tkinter: it shows at once, before any of the heavy stack exists).

Steps with their state, an overall progress bar, the latest line of the installer's output and a log, Cancel
while it runs, Retry and Close after a failure or a cancel. The set-up runs in a worker thread; the window
reads its events from a queue every 100 ms (Tk may only be touched from its own thread).
"""

from __future__ import annotations

import queue
import threading
import time
import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from tkinter import font, ttk

from .runtime import Cancelled, Event, Setup, SetupFailed

MARKS = {"todo": "○", "now": "▶", "done": "✓", "failed": "✗"}


class SetupWindow:
    def __init__(self, make_setup: Callable[[Callable[[Event], None]], Setup], icon: Path | None = None) -> None:
        self.make_setup = make_setup
        self.events: queue.Queue[Event | BaseException | dict[str, object]] = queue.Queue()
        self.setup: Setup | None = None
        self.succeeded = False
        self.closing = False
        # className sets WM_CLASS to ditto-desk: the task bar groups the window with the app's desktop entry.
        self.root = tk.Tk(className="ditto-desk")
        self.root.title("Ditto Desk — first-time set-up")
        if icon and icon.is_file():
            self.root.iconphoto(True, tk.PhotoImage(file=str(icon)))
        self.root.protocol("WM_DELETE_WINDOW", self._close)
        self._build()
        self._start()

    def _build(self) -> None:
        frame = ttk.Frame(self.root, padding=18)
        frame.pack(fill="both", expand=True)
        bold = font.nametofont("TkDefaultFont").copy()
        bold.configure(weight="bold")
        title = bold.copy()
        title.configure(size=bold.cget("size") + 5)
        self.bold = bold
        probe = self.make_setup(lambda event: None)  # only to read the plan and the paths
        ttk.Label(frame, text="Setting up Ditto Desk", font=title).pack(anchor="w")
        intro = (
            f"The first start installs what Ditto Desk runs on: PyTorch ({probe.build.label}), transformers and "
            f"Qt, into its own folder {probe.runtime}. This happens once and takes a few minutes; your own "
            "Python and your files are not touched."
        )
        ttk.Label(frame, text=intro, wraplength=560, justify="left").pack(anchor="w", pady=(6, 10))
        self.step_labels: list[ttk.Label] = []
        self.titles = [step[0] for step in probe.steps()]
        for step_title in self.titles:
            label = ttk.Label(frame, text=f"{MARKS['todo']}  {step_title}")
            label.pack(anchor="w")
            self.step_labels.append(label)
        self.bar = ttk.Progressbar(frame, length=560, maximum=1.0)
        self.bar.pack(fill="x", pady=(12, 4))
        self.status = ttk.Label(frame, text="", foreground="#555555", width=80)
        self.status.pack(anchor="w")
        logs = ttk.Frame(frame)
        logs.pack(fill="both", expand=True, pady=(8, 8))
        self.log = tk.Text(logs, height=8, width=80, wrap="none", font="TkFixedFont", state="disabled")
        scroll = ttk.Scrollbar(logs, command=self.log.yview)
        self.log.configure(yscrollcommand=scroll.set)
        self.log.pack(side="left", fill="both", expand=True)
        scroll.pack(side="right", fill="y")
        footer = ttk.Frame(frame)
        footer.pack(fill="x")
        self.clock = ttk.Label(footer, text="", foreground="#555555")
        self.clock.pack(side="left")
        self.close_button = ttk.Button(footer, text="Close", command=self._close)
        self.retry_button = ttk.Button(footer, text="Retry", command=self._start)
        self.cancel_button = ttk.Button(footer, text="Cancel", command=self._cancel)
        self.log_path = probe.log_path

    def _start(self) -> None:
        self.retry_button.pack_forget()
        self.close_button.pack_forget()
        self.cancel_button.pack(side="right")
        self.cancel_button.state(["!disabled"])
        for label, step_title in zip(self.step_labels, self.titles, strict=True):
            label.configure(text=f"{MARKS['todo']}  {step_title}", font="TkDefaultFont")
        self.bar.configure(value=0.0)
        self.current = -1
        self.started = time.monotonic()
        self.running = True
        self.setup = self.make_setup(self.events.put)
        threading.Thread(target=self._work, args=(self.setup,), name="ditto-desk-setup", daemon=True).start()
        self.root.after(100, self._poll)

    def _work(self, setup: Setup) -> None:
        try:
            self.events.put(setup.run())
        except BaseException as exc:  # handed to the window's thread, which says what happened
            self.events.put(exc)

    def _poll(self) -> None:
        while True:
            try:
                item = self.events.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, Event):
                self._show(item)
            else:
                self._finish(item)
                return
        seconds = int(time.monotonic() - self.started)
        self.clock.configure(text=f"{seconds // 60}:{seconds % 60:02d} elapsed · log: {self.log_path}")
        self.root.after(100, self._poll)

    def _show(self, event: Event) -> None:
        if event.kind == "step":
            self._mark(self.current, "done")
            self.current = event.index
            self._mark(self.current, "now")
            self.bar.configure(value=event.fraction)
            self._append(f"— {event.text}")
        elif event.kind == "progress":
            self.bar.configure(value=event.fraction)
        else:
            self.status.configure(text=event.text if len(event.text) < 100 else event.text[:97] + "…")
            self._append(event.text)

    def _finish(self, outcome: BaseException | dict[str, object]) -> None:
        self.running = False
        self.cancel_button.pack_forget()
        if isinstance(outcome, dict):
            self._mark(self.current, "done")
            self.bar.configure(value=1.0)
            self.status.configure(text=f"Ready in {outcome.get('seconds')} s. Starting Ditto Desk…")
            self.succeeded = True
            self.root.after(800, self.root.destroy)
            return
        self._mark(self.current, "failed")
        if isinstance(outcome, Cancelled):
            message = "Set-up cancelled. Retry whenever you like: it starts again where it is safe to."
        elif isinstance(outcome, SetupFailed):
            message = f"Set-up failed: {str(outcome).splitlines()[0]} (details below and in the log)."
            self._append(str(outcome))
        else:
            message = f"Set-up failed unexpectedly: {outcome.__class__.__name__}: {outcome}"
            self._append(message)
        self.status.configure(text=message, foreground="#b00020")
        if self.closing:
            self.root.destroy()
            return
        self.close_button.pack(side="right")
        self.retry_button.pack(side="right", padx=(0, 8))

    def _mark(self, index: int, state: str) -> None:
        if 0 <= index < len(self.step_labels):
            weight = self.bold if state == "now" else "TkDefaultFont"
            self.step_labels[index].configure(text=f"{MARKS[state]}  {self.titles[index]}", font=weight)

    def _append(self, text: str) -> None:
        self.log.configure(state="normal")
        self.log.insert("end", text + "\n")
        self.log.see("end")
        self.log.configure(state="disabled")

    def _cancel(self) -> None:
        self.cancel_button.state(["disabled"])
        self.status.configure(text="Cancelling…")
        if self.setup is not None:
            self.setup.cancel()

    def _close(self) -> None:
        if self.running:  # stop the installer first; the window closes once it has
            self.closing = True
            self._cancel()
        else:
            self.root.destroy()

    def run(self) -> bool:
        self.root.mainloop()
        return self.succeeded
