"""Where the app keeps its files on this computer: profiles, the app's own settings, converted models, and the
resources it ships beside its code (icons, the style sheet, sample texts, the evaluation corpus).

Each is the platform's own folder (platformdirs) unless an environment variable moves it: ``DITTO_DESK_HOME``
holds the profiles and the settings (tests and portable set-ups use it), ``DITTO_DESK_CACHE`` the models.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "ditto-desk"
APP_SETTINGS_FILE = "settings.json"
# Beside the package, not inside it: a source checkout, or the installed app's folder (packaging/README.md).
RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def default_profiles_root() -> Path:
    """``$DITTO_DESK_HOME/profiles`` if that variable is set, else the platform's per-user data folder."""
    home = os.environ.get("DITTO_DESK_HOME")
    if home:
        return Path(home).expanduser() / "profiles"
    # appauthor=False: no "ditto-desk\ditto-desk" doubling on Windows.
    return Path(platformdirs.user_data_dir(APP, appauthor=False)) / "profiles"


def app_settings_path() -> Path:
    """``$DITTO_DESK_HOME/settings.json`` if that variable is set, else the platform's config folder."""
    home = os.environ.get("DITTO_DESK_HOME")
    if home:
        return Path(home).expanduser() / APP_SETTINGS_FILE
    return Path(platformdirs.user_config_dir(APP, appauthor=False)) / APP_SETTINGS_FILE


def cache_root() -> Path:
    """``$DITTO_DESK_CACHE`` if that variable is set, else the platform's cache folder: converted models."""
    override = os.environ.get("DITTO_DESK_CACHE")
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP))
