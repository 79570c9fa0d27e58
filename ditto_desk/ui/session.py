"""What the window is working on: the profile store, the open profile, the app settings, and whether
training is running. Pages read it and listen to its signals instead of talking to each other."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from ditto_desk.bridge.workers import error_hub
from ditto_desk.core.app_settings import AppSettings, save_app_settings
from ditto_desk.core.errors import ProfileError
from ditto_desk.core.profiles.profile import Profile
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.training.config import TrainingConfig, preset

DEFAULT_PROFILE = "My style"


class Session(QObject):
    about_to_change = Signal()  # the open profile is about to be replaced, renamed or deleted: save edits now
    profile_changed = Signal()  # another profile was opened, or the open one was reloaded
    profiles_listed = Signal()  # a profile was created, renamed or deleted
    training_changed = Signal(bool)

    def __init__(
        self, store: ProfileStore, settings: AppSettings, training_config: TrainingConfig | None = None
    ) -> None:
        super().__init__()
        self.store = store
        self.settings = settings
        self.profile: Profile | None = None
        self.training = False
        self._training_config = training_config  # tests and the screenshot script pass a tiny one

    # -- settings ----------------------------------------------------------------------------------

    def training_config(self) -> TrainingConfig:
        return self._training_config or preset(self.settings.preset)

    def save_settings(self) -> None:
        try:
            save_app_settings(self.settings)
        except OSError as exc:
            error_hub.error.emit("Could not save the settings", exc, "")

    # -- profiles ----------------------------------------------------------------------------------

    def open_start_profile(self) -> None:
        """Open the last used profile, else the first one that opens, else create a new one."""
        names = self._names()
        wanted = self.settings.last_profile if self.settings.last_profile in names else None
        order = ([wanted] if wanted else []) + [n for n in names if n != wanted]
        for index, name in enumerate(order):
            # Only a failure of the profile the user last had open is worth a dialog at start-up.
            if self.open_profile(name, report=index == 0 and wanted is not None):
                return
        taken = {n.casefold() for n in names}
        name, number = DEFAULT_PROFILE, 2
        while name.casefold() in taken:
            name, number = f"{DEFAULT_PROFILE} {number}", number + 1
        self.create_profile(name)

    def open_profile(self, name: str, report: bool = True) -> bool:
        self.about_to_change.emit()
        try:
            profile = self.store.load(name)
        except ProfileError as exc:
            if report:
                error_hub.error.emit(f"Could not open the profile '{name}'", exc, "")
            return False
        self.profile = profile
        if self.settings.last_profile != profile.name:
            self.settings.last_profile = profile.name
            self.save_settings()
        self.profile_changed.emit()
        return True

    def reload_profile(self) -> None:
        if self.profile is not None:
            self.open_profile(self.profile.name)

    def create_profile(self, name: str) -> bool:
        self.about_to_change.emit()
        try:
            profile = self.store.create(name)
        except ProfileError as exc:
            error_hub.error.emit("Could not create the profile", exc, "")
            return False
        self.profiles_listed.emit()
        return self.open_profile(profile.name)

    def rename_profile(self, new_name: str) -> bool:
        if self.profile is None:
            return False
        self.about_to_change.emit()
        try:
            self.store.rename(self.profile.name, new_name)
        except ProfileError as exc:
            error_hub.error.emit("Could not rename the profile", exc, "")
            return False
        self.profiles_listed.emit()
        names = self._names()
        # The store may have cleaned the name (spaces, Unicode form); find it case-insensitively.
        match = next((n for n in names if n.casefold() == new_name.strip().casefold()), new_name.strip())
        return self.open_profile(match)

    def delete_profile(self) -> bool:
        if self.profile is None:
            return False
        try:
            self.store.delete(self.profile.name)
        except ProfileError as exc:
            error_hub.error.emit("Could not delete the profile", exc, "")
            return False
        self.profile = None
        self.settings.last_profile = None
        self.profiles_listed.emit()
        self.open_start_profile()
        return True

    def undo_learning(self) -> str | None:
        """Make the style learned before the current one current again; returns its version, or None."""
        return self._change_version(lambda profile: profile.undo(), "Could not go back to the previous style")

    def use_version(self, version: str) -> bool:
        """Make a kept version of the profile's style current again (checked first, as undo is)."""

        def use(profile: Profile) -> str:
            profile.use_version(version)
            return version

        return self._change_version(use, "Could not use that version") is not None

    def _change_version(self, change: Callable[[Profile], str], failure: str) -> str | None:
        """Run ``change`` on the open profile and show the result; a refusal is said, and changes nothing."""
        if self.profile is None:
            return None
        try:
            version = change(self.profile)
        except ProfileError as exc:
            error_hub.error.emit(failure, exc, "")
            return None
        self.reload_profile()
        return version

    def export_profile(self, file: str) -> bool:
        """Write the open profile as one archive another computer's ditto-desk imports (the save dialog has asked
        before replacing a file)."""
        from ditto_desk.core.export.archive import export_archive

        if self.profile is None:
            return False
        self.about_to_change.emit()  # edits in progress reach the file first
        try:
            export_archive(self.profile, file, replace=True)
        except (ProfileError, OSError) as exc:
            error_hub.error.emit("Could not export the profile", exc, "")
            return False
        return True

    def import_profile(self, file: str) -> bool:
        """Add the profile in an archive as a new profile, checked first, and open it."""
        from ditto_desk.core.export.archive import import_archive
        from ditto_desk.core.models.settings import model_name  # torch: this one action may load it

        try:
            profile = import_archive(self.store, file, expected_base=model_name(self.settings.model))
        except (ProfileError, OSError) as exc:
            error_hub.error.emit("Could not import the profile", exc, "")
            return False
        self.profiles_listed.emit()
        return self.open_profile(profile.name)

    def _names(self) -> list[str]:
        try:
            return self.store.list()
        except (ProfileError, OSError):
            return []

    def profile_names(self) -> list[str]:
        return self._names()

    # -- training state ----------------------------------------------------------------------------

    def set_training(self, running: bool) -> None:
        if running != self.training:
            self.training = running
            self.training_changed.emit(running)
