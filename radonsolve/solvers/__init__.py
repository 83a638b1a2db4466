"""Solvers for problem (P) on a dictionary. Each is a class with one ``solve`` entry point."""

from .newton import WorkingSetProxNewton
from .reference import CvxpyDatafitSolver, CvxpySolver
from .result import SolverResult
from .working_set import WorkingSetCD

__all__ = ["CvxpySolver", "CvxpyDatafitSolver", "WorkingSetCD", "WorkingSetProxNewton",
           "SolverResult"]
