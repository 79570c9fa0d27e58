"""Evaluation on held-out text: does the learned style belong to the author? (``ditto-desk eval``)"""

from ditto_desk.core.evaluation.methods import METHODS, Decoding
from ditto_desk.core.evaluation.runner import EvalOptions, EvalRun, run_evaluation

__all__ = ["METHODS", "Decoding", "EvalOptions", "EvalRun", "run_evaluation"]
