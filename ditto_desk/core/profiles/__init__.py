"""Profiles on disk: the store, one profile's folder, its adapter versions, taught edits, history and locks."""
