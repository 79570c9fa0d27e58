"""The command line's exit codes: 0 done, 1 failed (the message says why), 2 bad usage, 3 bad input (nothing to
learn from, unreadable files), 4 the model could not be loaded, 130 cancelled (Ctrl+C; nothing changed)."""

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BAD_INPUT, EXIT_MODEL, EXIT_CANCELLED = 0, 1, 2, 3, 4, 130
