"""The command line: the same core jobs as the window, for a terminal. A face over the core that never imports
the window (``ditto_desk.launcher`` decides between the two). ``main.py`` parses and dispatches; each command
lives in a module of its own."""
