"""First-run set-up of ditto-desk: its own Python environment with the right PyTorch, then the app.

Standard library only (the window is Tkinter): it runs on the system's python3 before anything else is
installed, and uses that python only to create the app's own virtual environment.
"""
