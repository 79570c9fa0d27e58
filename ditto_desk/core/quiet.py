"""The libraries' own chatter kept from the user.

transformers, trl, peft, accelerate, torch and bitsandbytes warn about their own internals (deprecated names, an
optional kernel package that is not installed, backward hooks) and draw progress bars; none of it is about what the
user asked for, and it reads like an error. The app says what matters in its own words: its progress events and
its error messages. Both faces call this first, before any of those libraries is imported.
"""

from __future__ import annotations

import logging
import os
import warnings

LIBRARIES = ("transformers", "trl", "peft", "accelerate", "torch", "bitsandbytes", "huggingface_hub", "datasets")


def quiet_libraries() -> None:
    # Read by the libraries when they are imported; a user's own setting wins.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # a download's progress is the app's own meter
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=rf"({'|'.join(LIBRARIES)})(\.|$)")
