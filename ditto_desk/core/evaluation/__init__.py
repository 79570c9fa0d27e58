"""Evaluation on held-out text: does the learned style belong to the author? (``ditto-desk eval``)"""

from .methods import METHODS, Decoding
from .runner import EvalOptions, EvalRun, run_evaluation

__all__ = ["METHODS", "Decoding", "EvalOptions", "EvalRun", "run_evaluation"]
