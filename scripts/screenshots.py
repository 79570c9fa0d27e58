"""Screenshots of the app in its main states, on the real bundled model, into docs/screenshots/.

Run on a virtual display::

    xvfb-run -a -s "-screen 0 1280x800x24" python scripts/screenshots.py

States: 01 empty, 02 texts added (with one refused file), 03 training in progress, 04 compose with a
draft beside the base model's answer, 05 the same in a dark palette, 06 Settings with the recommended models
and what each would take on this computer, 07 teach by editing (a corrected draft ready to Teach, one edit
kept with Save edit waiting), 08 the "Taught edits…" history with a word diff, 09 a reply to an email beside the
base model's. Profiles and settings go to a
temporary DITTO_DESK_HOME; the bundled model's cache is the user's (converted once if needed).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted(p for p in (REPO / "resources" / "samples").iterdir() if p.name != "README.md")
REQUEST = "An email to the team moving Friday's retro to Monday at 10"
SECOND_REQUEST = "An email to the team asking for their holiday dates before the end of the month"
INCOMING = (
    "Hi Maren,\n\nCould your team send me the Q3 budget figures before Friday? Finance closes the books on Monday "
    "and I am still missing yours.\n\nThanks,\nPriya"
)
REPLY = "yes, Thursday evening at the latest"


def in_her_words(draft: str) -> str:
    """Correct a draft as the samples' author would: her greeting, a line of her own, her sign-off."""
    lines = draft.strip().splitlines()
    if lines and re.match(r"(hi|hello|hey|dear)\b", lines[0].strip(), re.IGNORECASE):
        lines = lines[1:]
    while lines and len(lines[-1].split()) <= 3:  # its sign-off (and blank lines before it)
        lines.pop()
    body = "\n".join(lines).strip()
    return f"hey all —\n\n{body}\n\nShout if any of this doesn't work for you.\n\nonward,\nMaren"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--quantization", default="none", help="nf4, int8 or none (none loads fastest on a CPU)")
    parser.add_argument("--full", action="store_true", help="train with the whole quick preset (slower)")
    args = parser.parse_args(argv)
    home = tempfile.mkdtemp(prefix="ditto-desk-shots-")
    os.environ["DITTO_DESK_HOME"] = home
    sys.path.insert(0, str(REPO))

    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent
    from PySide6.QtWidgets import QApplication, QWidget

    from ditto_desk.core.app_settings import AppSettings, save_app_settings
    from ditto_desk.core.training.config import preset
    from ditto_desk.ui.app import build_window
    from ditto_desk.ui.theme import apply_style, dark_palette

    app = QApplication(["ditto-desk"])
    app.setApplicationName("Ditto Desk")
    apply_style(app)
    save_app_settings(AppSettings(device="cpu", quantization=args.quantization))
    # The quick preset's SFT, then one short comparison round (minutes on 2 busy cores); --full: as a user would.
    short = {"dpo_steps": 2, "resample_every": 2, "n_samples": 2, "max_new_tokens": 48}
    config = None if args.full else preset("quick").with_overrides(**short, max_length=256)
    window = build_window(training_config=config)
    window.resize(1200, 760)
    window.show()
    window.start()
    args.out.mkdir(parents=True, exist_ok=True)

    def wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise SystemExit(f"timed out waiting for {what}")
            app.processEvents()
            time.sleep(0.02)
        for _ in range(5):  # let layouts and repaints settle
            app.processEvents()
            time.sleep(0.02)

    def shot(name: str, widget: QWidget | None = None) -> None:
        path = args.out / name
        (widget or window).grab().save(str(path), "PNG")
        print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}: {path.stat().st_size // 1024} KB")

    wait(lambda: window.model_host.state in ("ready", "failed"), 300, "the model to load")
    if window.model_host.state == "failed":
        raise SystemExit(f"the model did not load: {window.model_host.error}")
    shot("01-empty.png")

    # Drop the samples and one file the app can't read, as a user would from a file manager.
    refused = Path(home) / "holiday-photos.pdf"
    refused.write_bytes(b"%PDF-1.4\n")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in [*SAMPLES, refused]])
    drop = QDropEvent(
        QPointF(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(drop)
    wait(lambda: window.demos.import_job is None, 60, "the files to be read")
    window.demos.list.setCurrentRow(0)
    window.demos.list.setFocus()
    wait(lambda: True, 1, "")
    shot("02-demonstrations.png")

    from ditto_desk.ui.settings_dialog import SettingsDialog

    settings = SettingsDialog(window.session.settings, window, window.catalog_estimates())
    settings.show()
    wait(lambda: True, 1, "")
    shot("06-settings-models.png", settings)
    settings.close()

    learn = window.learn
    window.tabs.setCurrentWidget(learn)
    learn.start()
    wait(lambda: len(learn.plot.margin_y) >= 1 or learn.job is None, 900, "the first comparison step")
    shot("03-training.png")
    wait(lambda: learn.job is None, 1800, "training to finish")
    if not window.session.profile.has_adapter:
        raise SystemExit("training did not finish: " + learn.phase_label.text())

    compose = window.compose
    window.tabs.setCurrentWidget(compose)
    compose.request.setPlainText(REQUEST)
    compose.compare.setChecked(True)
    compose.write()
    wait(lambda: not compose.writing, 600, "the draft")
    shot("04-compose.png")

    light = app.palette()
    app.setPalette(dark_palette())
    wait(lambda: True, 1, "")
    shot("05-compose-dark.png")
    app.setPalette(light)

    # Teach by editing: the first draft corrected and kept with Save edit, a second one corrected, ready to Teach.
    bar = compose.teach_bar
    compose.output.setPlainText(in_her_words(compose.output.toPlainText()))
    bar.save()
    compose.compare.setChecked(False)
    compose.request.setPlainText(SECOND_REQUEST)
    compose.write()
    wait(lambda: not compose.writing, 600, "the second draft")
    compose.output.setPlainText(in_her_words(compose.output.toPlainText()))
    if not (bar.teach_button.isEnabled() and bar.waiting == 1):
        raise SystemExit("the teach bar is not ready to teach: " + bar.waiting_label.text())
    shot("07-teach.png")
    bar.save()
    bar.show_history()
    assert bar.dialog is not None
    wait(lambda: bar.dialog.isVisible(), 10, "the edits dialog")
    shot("08-edits.png", bar.dialog)
    bar.dialog.close()

    # Answering an email: the message pasted in "Replying to", what to say, the reply beside the base model's.
    compose.reply_to.setPlainText(INCOMING)
    compose.request.setPlainText(REPLY)
    compose.compare.setChecked(True)
    compose.write()
    wait(lambda: not compose.writing, 600, "the reply")
    shot("09-reply.png")
    window.ask_before_closing = False
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
