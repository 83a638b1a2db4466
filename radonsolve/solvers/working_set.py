"""Working-set coordinate descent on the structured ReLU dictionary.

The restricted problem is solved on dense projected columns of a small working set (Gram
coordinate descent with Anderson acceleration); one structured pass over all atoms prices
them and gives the duality gap of the full problem (DESIGN §3-4). Atoms enter the working
set by how much they violate the optimality condition ``||G_j^T rho|| <= alpha``, as in
celer and skglm.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._cd import gram_cd_epochs, gram_objective_and_gap
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
    """Working-set block coordinate descent for the projected (group) lasso.

    Parameters
    ----------
    tol : float, default=1e-6
        Stop when the duality gap is below ``tol`` times the objective of the affine fit.
    max_iter : int, default=100
        Maximum number of working-set (outer) iterations.
    max_epochs : int, default=20000
        Maximum CD epochs per restricted solve.
    ws_start : int, default=50
        Initial working-set size.
    anderson : int, default=5
        Number of iterates combined by Anderson acceleration (0 disables it).
    verbose : int, default=0
    """

    def __init__(self, tol=1e-6, max_iter=100, max_epochs=20000, ws_start=50, anderson=5,
                 verbose=0):
        self.tol = tol
        self.max_iter = max_iter
        self.max_epochs = max_epochs
        self.ws_start = ws_start
        self.anderson = anderson
        self.verbose = verbose

    def _restricted(self, H, C, V, bb, alpha, tol_in):
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
        T = b.shape[1]
        bb = float(np.sum(b * b))
        scale = problem.affine_objective
        tol_abs = self.tol * scale
        n_atoms = problem.dictionary.n_atoms

        if warm_start is not None and len(warm_start[0]):
            idx = np.asarray(warm_start[0], dtype=int)
            V = np.asarray(warm_start[1], dtype=float).reshape(len(idx), T).copy()
        else:
            idx = np.zeros(0, dtype=int)
            V = np.zeros((0, T))
        G = problem.projected_columns(idx) if len(idx) else np.zeros((b.shape[0], 0))
        rho = b - G @ V
        primal, dual, gap, corr = problem.gap(rho, V)
        history = []
        epochs_total = 0
        converged = gap <= tol_abs
        it = 0
        ws_size = max(self.ws_start, 2 * len(idx))
        while not converged and it < self.max_iter and n_atoms > 0:
            it += 1
            # Price all atoms; grow the working set with the worst violators.
            score = problem.penalty.row_norms(corr) / alpha if alpha > 0 else \
                problem.penalty.row_norms(corr)
            keep = np.linalg.norm(V, axis=1) > 0
            idx, V, G = idx[keep], V[keep], G[:, keep]
            score[idx] = -np.inf
            n_new = max(ws_size - len(idx), 1)
            n_new = min(n_new, int(np.sum(score > 1.0)) if alpha > 0 else n_new)
            if n_new > 0:
                cand = np.argpartition(-score, min(n_new, n_atoms) - 1)[:n_new] \
                    if n_new < n_atoms else np.arange(n_atoms)
                cand = cand[np.isfinite(score[cand])]
                G_new = problem.projected_columns(cand)
                idx = np.concatenate([idx, cand])
                V = np.vstack([V, np.zeros((len(cand), T))])
                G = np.hstack([G, G_new])
            H = G.T @ G
            C = G.T @ b
            tol_in = max(0.3 * gap, 0.1 * tol_abs)
            epochs_total += self._restricted(H, C, V, bb, alpha, tol_in)
            rho = b - G @ V
            primal, dual, gap, corr = problem.gap(rho, V)
            history.append((time.perf_counter() - t0, primal, gap, len(idx)))
            if self.verbose:
                print(f"[cd] iter {it}: working set {len(idx)}, objective {primal:.10g}, "
                      f"gap {gap:.3e} (target {tol_abs:.3e})")
            converged = gap <= tol_abs
            ws_size = max(2 * int(np.sum(np.linalg.norm(V, axis=1) > 0)), ws_size)
        if not converged:
            warnings.warn(
                f"Working-set solver stopped after {it} iterations with duality gap {gap:.3e}, "
                f"above the tolerance {tol_abs:.3e}. Increase max_iter or tol.",
                ConvergenceWarning)
        keep = np.linalg.norm(V, axis=1) > 0
        return SolverResult(idx=idx[keep], coef=V[keep], objective=primal, dual_gap=gap,
                            n_iter=epochs_total, converged=converged, history=history,
                            time=time.perf_counter() - t0)
