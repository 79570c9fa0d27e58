"""Step 2 on a real (tiny, random) model: Learn runs DITTO through the worker with live progress, the
window stays responsive, Cancel keeps the profile as it was, and errors end in a dialog."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from window_helpers import GapMeter, add_files, plotted_losses

from ditto_desk.bridge.workers import running_jobs
from ditto_desk.core.importing.files import import_paths
from ditto_desk.core.profiles.store import ProfileStore


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_learn_trains_with_live_progress_and_stays_responsive(
    make_window, tiny_app_settings, ui_training_config, samples, qtbot
) -> None:
    window = make_window(autoload_model=True, training_config=ui_training_config)
    window.demos.add_result(import_paths(samples))  # at once: the model must still be loading
    learn = window.learn
    values: list[int] = []
    learn.progress.valueChanged.connect(values.append)
    meter = GapMeter()

    assert window.model_host.busy  # the compose model is still loading in the background...
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # Ctrl+L = Learn
    assert window.tabs.currentWidget() is learn
    assert learn.phase_label.text() == "Waiting for the model to finish loading…"  # ...so Learn waits for it
    # Editing is locked while training.
    assert not window.demos.add_button.isEnabled() and window.demos.editor.text.isReadOnly()
    assert not learn.learn_button.isEnabled() and learn.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: learn.job is not None, timeout=60_000)
    meter.start()  # from here the training job runs (it loads its own model, then trains)
    started = time.perf_counter()
    assert window.model_label.text().endswith("· cpu · none")  # status bar: model · device · quantization
    with qtbot.waitSignal(learn.job.finished, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: learn.job is None, timeout=5000)
    meter.stop()
    seconds = time.perf_counter() - started

    print(f"training took {seconds:.1f} s; the longest pause of the GUI thread was {meter.max_gap * 1000:.0f} ms")
    assert seconds > 1.0  # long enough for the responsiveness bound to mean something
    assert meter.max_gap < 0.2, f"the window froze for {meter.max_gap * 1000:.0f} ms during training"
    assert meter.ticks > seconds / 0.2
    assert len(set(values)) >= 4 and values[-1] == 1000
    assert len(plotted_losses(learn.plot)) >= 4  # 2 SFT + 2 DPO steps
    assert len(learn.plot.margin_y) >= 2
    assert learn.metrics_label.text().startswith("Last step: loss")
    assert "Learned your style" in learn.result_label.text()
    assert window.session.profile.has_adapter
    assert ProfileStore().load(window.session.profile.name).has_adapter
    assert window.demos.add_button.isEnabled() and not window.demos.editor.text.isReadOnly()

    # Compose with the new style, and the base model's answer beside it.
    compose = window.compose
    assert "Writing in the style learned" in compose.notice.text()
    compose.compare.setChecked(True)
    compose.length.setValue(24)
    compose.request.setPlainText("An email to the team moving the retro to Monday")
    window.tabs.setCurrentWidget(compose)
    compose.request.setFocus()
    qtbot.keyClick(compose.request, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Enter = Write
    assert compose.job is not None
    qtbot.waitUntil(lambda: compose.job is None, timeout=60_000)
    assert compose.output.toPlainText().strip()
    assert compose.base_output.toPlainText().strip()
    assert window.model_host.writer.adapter_dir == window.session.profile.active_adapter_dir


def test_cancel_stops_quickly_and_keeps_the_profile_unchanged(
    make_window, tiny_app_settings, ui_training_config, samples, qtbot
) -> None:
    long_run = ui_training_config.with_overrides(sft_max_steps=400, sft_stop_loss=0.0)
    window = make_window(training_config=long_run)
    add_files(window, qtbot, samples[:3])
    profile = window.session.profile
    _give_profile_an_adapter(profile)
    window.session.reload_profile()
    before = _snapshot(profile.path)
    assert any(name.endswith("adapter_model.safetensors") for name in before)

    learn = window.learn
    qtbot.mouseClick(learn.learn_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(plotted_losses(learn.plot)) >= 1, timeout=60_000)  # mid-SFT
    job = learn.job
    t0 = time.perf_counter()
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # Esc = Cancel
    assert "Cancelling" in learn.phase_label.text()
    with qtbot.waitSignal(job.ended, timeout=10_000):
        pass
    assert time.perf_counter() - t0 < 5.0
    assert job.outcome == "cancelled" and job._thread.isFinished()
    assert learn.phase_label.text() == "Cancelled — your previous style was kept unchanged."
    assert _snapshot(profile.path) == before
    assert learn.learn_button.isEnabled()
    assert job not in running_jobs()


def _give_profile_an_adapter(profile) -> None:
    """A stand-in 'previous style' committed through the core's own atomic commit."""
    import json

    import torch
    from safetensors.torch import save_file

    def write(folder: Path) -> None:
        save_file({"w": torch.zeros(2)}, folder / "adapter_model.safetensors")
        (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))

    profile.commit_adapter(write, [{"phase": "summary", "finished": "2026-01-01T00:00:00+00:00"}])


def test_a_model_that_cannot_load_ends_in_a_dialog_and_a_stopped_worker(make_window, samples, tmp_path, qtbot) -> None:
    from ditto_desk.core.app_settings import AppSettings, save_app_settings

    not_a_model = tmp_path / "not-a-model"
    not_a_model.mkdir()
    save_app_settings(AppSettings(model=str(not_a_model), device="cpu", quantization="none"))
    window = make_window(autoload_model=True)
    window.demos.add_result(import_paths(samples[:2]))  # at once: the model must still be loading
    learn = window.learn
    assert window.model_host.busy
    qtbot.mouseClick(learn.learn_button, Qt.MouseButton.LeftButton)  # waits for the model, which then fails
    qtbot.waitUntil(lambda: window.model_host.state == "failed", timeout=30_000)
    assert learn.phase_label.text().startswith("Training did not start: the model could not be loaded")
    assert not learn.training and learn.learn_button.isEnabled()
    assert len(window.error_boxes) == 1  # one cause, one dialog
    box = window.error_boxes[-1]
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "is not a model folder" in box.text()
    assert "Settings" in box.informativeText()
    assert "not loaded" in window.model_label.text()
    box.close()

    qtbot.mouseClick(learn.learn_button, Qt.MouseButton.LeftButton)  # Learn again: training itself fails
    job = learn.job
    with qtbot.waitSignal(job.ended, timeout=30_000):
        pass
    assert job.outcome == "failed" and job._thread.isFinished()
    assert window.error_boxes[-1].windowTitle() == "Training stopped"
    assert "is not a model folder" in window.error_boxes[-1].text()
    assert learn.phase_label.text().startswith("Training stopped:")
    window.session.settings.model = "bundled"  # another model: the failure is no longer this profile's news
    learn.refresh()
    assert learn.phase_label.text() == "Not started."
    assert learn.learn_button.isEnabled() and not window.session.training


def test_a_stopped_learning_is_kept_offered_and_continued(
    make_window, tiny_app_settings, ui_training_config, samples, qtbot
) -> None:
    window = make_window(training_config=ui_training_config)
    add_files(window, qtbot, samples[:3])
    learn = window.learn
    qtbot.mouseClick(learn.learn_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: learn.phase_label.text().startswith("Round 1 "), timeout=60_000)  # SFT is over
    job = learn.job
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    with qtbot.waitSignal(job.ended, timeout=10_000):
        pass
    kept = "A stopped learning is kept (SFT done): Learn my style continues from it"
    assert learn.phase_label.text().startswith("Cancelled — nothing was saved") and kept in learn.phase_label.text()
    assert kept in learn.state_label.text()  # and the page offers it until it is used
    assert not window.session.profile.has_adapter

    _learn_to_the_end(learn, qtbot)
    assert "It continued the stopped learning (SFT already done)." in learn.result_label.text()
    assert window.session.profile.has_adapter and kept not in learn.state_label.text()


def test_the_app_can_write_while_it_learns(make_window, tiny_app_settings, ui_training_config, samples, qtbot) -> None:
    """The Learn page says the app can be used meanwhile: Compose writes a draft while a learning runs."""
    long_run = ui_training_config.with_overrides(sft_max_steps=400, sft_stop_loss=0.0)
    window = make_window(autoload_model=True, training_config=long_run)
    add_files(window, qtbot, samples[:3])
    qtbot.waitUntil(lambda: window.model_host.state == "ready", timeout=60_000)
    learn, compose = window.learn, window.compose
    qtbot.mouseClick(learn.learn_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(plotted_losses(learn.plot)) >= 1, timeout=60_000)  # learning, mid-SFT
    window.tabs.setCurrentWidget(compose)
    compose.length.setValue(12)
    compose.request.setPlainText("A short note to the team about Friday")
    assert compose.write_button.isEnabled()
    qtbot.mouseClick(compose.write_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not compose.writing, timeout=60_000)
    assert compose.output.toPlainText().strip() and learn.training  # a draft, and the learning still going
    job = learn.job
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    with qtbot.waitSignal(job.ended, timeout=10_000):
        pass


def test_after_a_restart_the_learn_page_shows_how_the_style_was_learned(
    make_window, tiny_app_settings, ui_training_config, samples, qtbot
) -> None:
    window = make_window(training_config=ui_training_config)
    add_files(window, qtbot, samples[:3])
    learn = window.learn
    _learn_to_the_end(learn, qtbot)
    live = plotted_losses(learn.plot)
    assert len(live) >= 4

    again = make_window(training_config=ui_training_config)  # the app opened again on this profile
    assert again.session.profile.has_adapter
    assert again.learn.phase_label.text() == "The plot shows how the current style was learned."
    assert plotted_losses(again.learn.plot) == live  # the same steps, from the style's training log
    assert again.session.create_profile("Another")  # a profile with no style: an empty plot, not the other's
    assert plotted_losses(again.learn.plot) == [] and again.learn.phase_label.text() == "Not started."


def _learn_to_the_end(learn, qtbot) -> None:
    """Press Learn my style and wait until the learning has finished and the page is idle again."""
    qtbot.mouseClick(learn.learn_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: learn.job is not None, timeout=10_000)
    with qtbot.waitSignal(learn.job.finished, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: learn.job is None, timeout=5000)
