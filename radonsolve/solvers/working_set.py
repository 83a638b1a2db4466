"""Working-set solver on the structured ReLU dictionary.

The restricted problem lives on dense projected columns of a small working set; one
structured pass over all atoms prices them and gives the duality gap of the full problem
(DESIGN §3-4). Atoms enter the working set by how much they violate the optimality
condition ``||G_j^T rho|| <= alpha``, as in celer and skglm.

What makes it fast on this dictionary (measured, see benchmarks/bench_lasso.py):

- The restricted problem is solved on the Gram matrix ``H = G_ws^T G_ws``, extended
  incrementally when the working set grows (only the new columns are multiplied).
- With one output, the restricted lasso is solved *exactly* by an active-set method with a
  Cholesky factor updated as atoms enter and leave (``_cd.lasso_active_set``). Neighbouring
  ReLU atoms (adjacent biases, nearby directions) are nearly collinear, which makes
  coordinate descent crawl at small alpha even with Anderson acceleration; the active-set
  method lands on the solution once the signs are right, warm-started from the previous one.
- With several outputs (group lasso) the restricted problem uses Gram block coordinate
  descent with Anderson acceleration.
- Only local maxima of the violation along each direction's biases are candidates to enter:
  the violation is a smooth function of the bias, so its neighbours repeat the same atom
  almost exactly and would only enlarge the Gram matrix.

The gap is always the honest one: residual from the dense working-set columns, correlations
from the structured pass over every atom.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._cd import gram_cd_epochs, gram_objective_and_gap, lasso_active_set, local_max_candidates
from .result import SolverResult

__all__ = ["WorkingSetCD"]


def _anderson(iterates):
    """Anderson extrapolation of the last iterates (flattened), or None if ill-posed."""
    Xs = np.array(iterates)
    U = np.diff(Xs, axis=0)
    M = U @ U.T
    try:
        c = np.linalg.solve(M + 1e-12 * np.trace(M) * np.eye(len(M)), np.ones(len(M)))
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(c)) or c.sum() == 0:
        return None
    c /= c.sum()
    return c @ Xs[1:]


class WorkingSetCD:
    """Working-set solver for the projected (group) lasso on the structured dictionary.

    Parameters
    ----------
    tol : float, default=1e-6
        Stop when the duality gap is below ``tol`` times the objective of the affine fit.
    max_iter : int, default=100
        Maximum number of working-set (outer) iterations.
    max_epochs : int, default=20000
        Maximum CD epochs per restricted solve (several outputs), or active-set steps per
        restricted solve (one output) divided by 10.
    ws_start : int, default=50
        Initial number of atoms brought in at once; later rounds bring in as many atoms as
        there are nonzero coefficients (the working set roughly doubles, as in celer).
    anderson : int, default=5
        Number of iterates combined by Anderson acceleration in the CD solver (0 disables it).
    inner : {'auto', 'active_set', 'cd'}, default='auto'
        Restricted solver: the exact active-set method for one output ('auto'), else CD.
    verbose : int, default=0
    """

    def __init__(self, tol=1e-6, max_iter=100, max_epochs=20000, ws_start=50, anderson=5,
                 verbose=0, inner="auto"):
        self.tol = tol
        self.max_iter = max_iter
        self.max_epochs = max_epochs
        self.ws_start = ws_start
        self.anderson = anderson
        self.verbose = verbose
        self.inner = inner

    # ------------------------------------------------------------------ restricted solvers
    def _restricted_cd(self, H, C, V, bb, alpha, tol_in):
        HV = H @ V
        epochs = 0
        hist = []
        check = 10
        while epochs < self.max_epochs:
            gram_cd_epochs(H, C, V, HV, alpha, 1)
            epochs += 1
            if self.anderson:
                hist.append(V.ravel().copy())
                if len(hist) == self.anderson + 1:
                    ext = _anderson(hist)
                    hist = []
                    if ext is not None:
                        Ve = ext.reshape(V.shape)
                        HVe = H @ Ve
                        p_old, _ = gram_objective_and_gap(H, C, V, HV, bb, alpha)
                        p_new, _ = gram_objective_and_gap(H, C, Ve, HVe, bb, alpha)
                        if p_new < p_old:
                            V[:] = Ve
                            HV[:] = HVe
            if epochs % check == 0:
                p, d = gram_objective_and_gap(H, C, V, HV, bb, alpha)
                if p - d <= tol_in:
                    break
        return epochs

    def _restricted_active_set(self, H, C, V, alpha):
        v = np.ascontiguousarray(V[:, 0])
        n_iter, _ = lasso_active_set(H, np.ascontiguousarray(C[:, 0]), v, alpha,
                                     10 * self.max_epochs, 1e-10, 1e-13)
        V[:, 0] = v
        return n_iter

    # ------------------------------------------------------------------ main loop
    def solve(self, problem, warm_start=None):
        """Solve ``problem`` (a :class:`radonsolve.lasso.ProjectedLasso`).

        Parameters
        ----------
        warm_start : tuple (idx, V) or None
            Atoms and coefficients to start from.
        """
        t0 = time.perf_counter()
        alpha = problem.alpha
        b = problem.b
        N, T = b.shape
        bb = float(np.sum(b * b))
        tol_abs = self.tol * problem.affine_objective
        dic = problem.dictionary
        n_atoms = dic.n_atoms
        use_as = (self.inner == "active_set" or (self.inner == "auto" and T == 1)) and alpha > 0
        if self.inner == "active_set" and T != 1:
            raise ValueError("inner='active_set' needs a single output; use 'cd' or 'auto'.")

        if warm_start is not None and len(warm_start[0]):
            idx0 = np.asarray(warm_start[0], dtype=np.int64).ravel()
            V0 = np.asarray(warm_start[1], dtype=float).reshape(len(idx0), T)
            idx, inv = np.unique(idx0, return_inverse=True)
            V = np.zeros((len(idx), T))
            np.add.at(V, inv, V0)
        else:
            idx = np.zeros(0, dtype=np.int64)
            V = np.zeros((0, T))
        G = problem.projected_columns(idx) if len(idx) else np.zeros((N, 0))
        H = G.T @ G
        C = G.T @ b
        rho = b - G @ V
        primal, dual, gap, corr = problem.gap(rho, V)
        in_ws = np.zeros(n_atoms, dtype=bool)
        in_ws[idx] = True
        history = []
        inner_total = 0
        converged = gap <= tol_abs
        it = 0
        if self.verbose:
            print(f"[ws] start: objective {primal:.10g}, gap {gap:.3e} (target {tol_abs:.3e})")
        while not converged and it < self.max_iter and n_atoms > 0:
            it += 1
            nnz = int(np.sum(np.any(V != 0, axis=1)))
            n_new = max(self.ws_start, nnz)
            cand = self._select(dic, corr, alpha, in_ws, n_new)
            if len(cand):
                G_new = problem.projected_columns(cand)
                cross = G.T @ G_new
                H = np.block([[H, cross], [cross.T, G_new.T @ G_new]])
                C = np.vstack([C, G_new.T @ b])
                G = np.hstack([G, G_new])
                idx = np.concatenate([idx, cand])
                V = np.vstack([V, np.zeros((len(cand), T))])
                in_ws[cand] = True
            if use_as:
                inner_total += self._restricted_active_set(H, C, V, alpha)
            else:
                tol_in = max(0.3 * gap, 0.1 * tol_abs)
                inner_total += self._restricted_cd(H, C, V, bb, alpha, tol_in)
            rho = b - G @ V
            primal, dual, gap, corr = problem.gap(rho, V)
            history.append((time.perf_counter() - t0, primal, gap, len(idx)))
            if self.verbose:
                print(f"[ws] iter {it}: working set {len(idx)} (+{len(cand)}), "
                      f"nonzeros {int(np.sum(np.any(V != 0, axis=1)))}, objective "
                      f"{primal:.10g}, gap {gap:.3e} (target {tol_abs:.3e})")
            converged = gap <= tol_abs
        if not converged:
            warnings.warn(
                f"Working-set solver stopped after {it} iterations with duality gap {gap:.3e}, "
                f"above the tolerance {tol_abs:.3e}. Increase max_iter or tol.",
                ConvergenceWarning)
        keep = np.any(V != 0, axis=1)
        return SolverResult(idx=idx[keep], coef=V[keep], objective=primal, dual_gap=gap,
                            n_iter=inner_total, converged=converged, history=history,
                            time=time.perf_counter() - t0)

    @staticmethod
    def _select(dic, corr, alpha, in_ws, n_new):
        """Up to n_new violating atoms outside the working set, most violating first."""
        score = np.sqrt(np.einsum("ij,ij->i", corr, corr)) if corr.shape[1] > 1 \
            else np.abs(corr[:, 0])
        cand = local_max_candidates(score, dic.direction_offsets, in_ws, alpha)
        if len(cand) == 0:
            # Violators that are not local maxima (plateaus): fall back to all of them.
            cand = np.flatnonzero((score > alpha) & ~in_ws)
        if len(cand) > n_new:
            top = np.argpartition(-score[cand], n_new - 1)[:n_new]
            cand = cand[top]
        return np.sort(cand)
