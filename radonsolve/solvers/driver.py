"""The working-set loop shared by every solver of (P) on a dictionary (DESIGN §3-4, §12).

The restricted problem lives on dense columns of a small working set; one structured pass
``Phi^T theta`` over all atoms prices them and gives the duality gap of the full problem.
What differs between losses is only the restricted step and how the working set's dense
data grow:

- constant Hessian (squared loss, :class:`~radonsolve.solvers.WorkingSetCD`): the Gram
  matrix of the projected columns is extended incrementally as atoms enter, and the
  restricted lasso on it is solved exactly;
- any other smooth loss (:class:`~radonsolve.solvers.WorkingSetProxNewton`): proximal Newton
  steps on the columns ``[A, Phi_ws]``, each an exact (group) lasso on a Schur complement.

Both solve their restricted problems with the kernel of :mod:`radonsolve.solvers.restricted`.
:class:`WorkingSetDriver` holds everything else once: the loop, the selection of the atoms
that enter (the most violating local maxima along each direction's biases: the violation is
a smooth function of the bias, so the neighbours of a maximum nearly repeat it and would
only enlarge the restricted problem; as many as there are nonzero atoms, at least
``ws_start``, so the working set roughly doubles, as in celer), the stopping rule on the
duality gap of the full problem, the iteration count, the history and the
ConvergenceWarning.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._cd import local_max_candidates

__all__ = ["WorkingSetDriver", "select_candidates"]


def select_candidates(corr, offsets, in_ws, alpha, n_new):
    """Up to ``n_new`` violating atoms outside the working set, most violating first.

    Parameters
    ----------
    corr : ndarray of shape (n_atoms,) or (n_atoms, T)
        Correlations of the dual point with every atom.
    offsets : ndarray of int, shape (n_groups + 1,)
        First atom of each direction (``direction_offsets`` of the dictionary).
    in_ws : ndarray of bool, shape (n_atoms,)
        Atoms already in the working set.
    alpha : float
        Regularization strength: an atom violates when its correlation norm exceeds it.
    n_new : int
        Largest number of atoms returned.

    Returns
    -------
    ndarray of int64
        Local maxima of the violation along their direction's biases, sorted by index.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.solvers.driver import select_candidates
    >>> corr = np.array([0.5, 2.0, 1.5, 3.0, 0.1])      # one direction of five atoms
    >>> select_candidates(corr, np.array([0, 5]), np.zeros(5, dtype=bool), 1.0, 10)
    array([1, 3])
    """
    corr = np.asarray(corr)
    if corr.ndim == 1 or corr.shape[1] == 1:
        score = np.abs(corr.reshape(len(corr)))
    else:
        score = np.sqrt(np.einsum("ij,ij->i", corr, corr))
    cand = local_max_candidates(score, offsets, in_ws, alpha)
    if len(cand) > n_new:
        cand = cand[np.argpartition(-score[cand], n_new - 1)[:n_new]]
    return np.sort(cand)


class WorkingSetDriver:
    """Base class of the working-set solvers: the loop of the module docstring.

    A subclass sets ``tol``, ``max_iter``, ``ws_start`` and ``verbose`` in its ``__init__``
    and implements the hooks on a per-solve ``state`` object of its own (which must carry
    ``idx``, the working set's atoms, ``in_ws``, the same as a boolean mask over all atoms,
    and ``timing``, a dict of seconds or None):

    - ``_scale(problem)``: the unit of the relative tolerance;
    - ``_nnz(state)``: atoms with a nonzero coefficient row;
    - ``_price(problem, state)``: ``(primal, dual, gap, corr)`` over every atom;
    - ``_add(problem, state, cand, gap, tol_abs)``: atoms ``cand`` enter;
    - ``_stalled(problem, state, gap, tol_abs)``: no atom violates while the gap is above
      the tolerance (the restricted problem was solved too loosely);
    - ``_restricted(problem, state, gap, tol_abs)``: solve the restricted problem;
    - ``_finish(problem, state, primal, dual, gap, converged, n_iter, history, t0)``: the
      result;
    - ``_label(problem)``: the name used in messages.

    ``max_iter`` bounds the number of restricted solves, which ``n_iter`` reports (at least
    one: the first pricing pass counts when it finds the start optimal).
    """

    def _loop(self, problem, state, n_solves):
        """Run the loop on ``state`` after ``n_solves`` restricted solves; the result."""
        t0 = state.t0
        alpha = problem.alpha
        offsets = problem.dictionary.direction_offsets
        tol_abs = self.tol * self._scale(problem)
        timing = state.timing
        history = []
        primal, dual, gap, corr = self._price(problem, state)
        history.append((time.perf_counter() - t0, primal, gap, len(state.idx)))
        if self.verbose:
            print(f"[{self._label(problem)}] start: objective {primal:.12g}, gap {gap:.3e} "
                  f"(target {tol_abs:.3e}), {n_solves} restricted solves")
        converged = gap <= tol_abs
        while not converged and n_solves < self.max_iter and problem.dictionary.n_atoms:
            tic = time.perf_counter()
            n_new = max(self.ws_start, self._nnz(state))
            cand = select_candidates(corr, offsets, state.in_ws, alpha, n_new)
            if timing is not None:
                timing["select"] += time.perf_counter() - tic
            if len(cand):
                self._add(problem, state, cand, gap, tol_abs)
            else:
                self._stalled(problem, state, gap, tol_abs)
            self._restricted(problem, state, gap, tol_abs)
            n_solves += 1
            primal, dual, gap, corr = self._price(problem, state)
            history.append((time.perf_counter() - t0, primal, gap, len(state.idx)))
            if self.verbose:
                print(f"[{self._label(problem)}] iter {n_solves}: working set "
                      f"{len(state.idx)} (+{len(cand)}), nonzeros {self._nnz(state)}, "
                      f"objective {primal:.12g}, gap {gap:.3e} (target {tol_abs:.3e})")
            converged = gap <= tol_abs
        if not converged:
            warnings.warn(
                f"{self._label(problem)} stopped after {n_solves} iterations with duality "
                f"gap {gap:.3e}, above the tolerance {tol_abs:.3e}. Increase max_iter or tol.",
                ConvergenceWarning)
        return self._finish(problem, state, primal, dual, gap, converged, max(n_solves, 1),
                            history, t0)
