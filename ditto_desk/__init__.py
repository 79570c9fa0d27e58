"""ditto-desk: teach a local language model to write the way you write."""

__version__ = "0.1.0"
