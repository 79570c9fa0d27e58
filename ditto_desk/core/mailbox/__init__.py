"""A mailbox on disk into the few own emails worth learning from."""
