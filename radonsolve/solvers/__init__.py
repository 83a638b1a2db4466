"""Solvers for problem (P) on a dictionary. Each is a class with one ``solve`` entry point."""

from .adapters import ArrangementSolver, ExactResult, SampleProblem, UnivariateSolver
from .newton import WorkingSetProxNewton
from .reference import CvxpyDatafitSolver, CvxpySolver
from .result import SolverResult
from .working_set import WorkingSetCD

__all__ = ["ArrangementSolver", "CvxpySolver", "CvxpyDatafitSolver", "ExactResult",
           "SampleProblem", "SolverResult", "UnivariateSolver", "WorkingSetCD",
           "WorkingSetProxNewton"]
