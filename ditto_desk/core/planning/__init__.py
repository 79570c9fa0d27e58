"""Before a run: this machine's memory and speed, and what training a model will take here."""
