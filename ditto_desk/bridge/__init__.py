"""The bridge between the window and the core: the core jobs the window runs (tasks.py, no Qt) and the one
place they run in a QThread (workers.py). The core knows nothing of it; the window knows nothing else."""
