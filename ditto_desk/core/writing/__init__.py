"""Writing a draft in a learned style: the writer and how long a draft may run."""
