"""Working-set solver for the squared loss: the constant-Hessian instance of the one driver.

The loop (pricing pass over every atom, selection of the atoms that enter, the duality gap
of the full problem, iteration count, warnings) is :class:`radonsolve.solvers.driver.
WorkingSetDriver`, shared with the proximal Newton solver of the other losses. With the
squared loss the skip connection is eliminated by projection (DESIGN §4) and the Hessian is
constant, so the restricted step is an exact lasso on a Gram matrix that only grows. Atoms
enter the working set by how much they violate the optimality condition
``||G_j^T rho|| <= alpha``, as in celer and skglm.

What makes it fast on this dictionary (measured, see benchmarks/bench_lasso.py):

- The restricted problem is solved on the Gram matrix ``H = G_ws^T G_ws``, extended
  incrementally when the working set grows (only the new columns are multiplied).
- With one output, the restricted lasso is solved *exactly* by an active-set method with a
  Cholesky factor updated as atoms enter and leave (``_cd.lasso_active_set``, the one-output
  case of the restricted kernel of :mod:`radonsolve.solvers.restricted`). Neighbouring
  ReLU atoms (adjacent biases, nearby directions) are nearly collinear, which makes
  coordinate descent crawl at small alpha even with Anderson acceleration; the active-set
  method lands on the solution once the signs are right, warm-started from the previous one.
- With several outputs (group lasso) the restricted problem is solved by an active-set
  method too: damped Newton on the support (where the penalty is smooth), rows entering by
  exact block-CD steps and leaving when that lowers the objective; block CD with Anderson
  acceleration only finishes when Newton cannot improve.
- Only local maxima of the violation along each direction's biases are candidates to enter:
  the violation is a smooth function of the bias, so its neighbours repeat the same atom
  almost exactly and would only enlarge the Gram matrix.
- The structured pass is parallel over directions (numba), everything dense runs with one
  BLAS thread (see ``solve``).

Measured on a shared 2-core machine, 2D data, N = 10^4, D = 256 (2.56 million atoms),
alpha = 1e-3 alpha_max, relative gap 1e-6: about 2-3 s and 0.63 GB peak (the previous
Gram CD with Anderson acceleration had not converged after 15 minutes).

The gap is always the honest one: residual from the dense working-set columns, correlations
from the structured pass over every atom.
"""

import time
from types import SimpleNamespace

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from threadpoolctl import threadpool_limits

from ._cd import gram_cd_epochs, gram_objective_and_gap
from .driver import WorkingSetDriver
from .restricted import restricted_lasso
from .result import SolverResult, merge_warm_start

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


def _group_objective(H, C, V, A, alpha):
    """``0.5 V'HV - C'V + alpha sum ||V_j||`` when only the rows A of V are nonzero."""
    VA = V[A]
    return (0.5 * float(np.sum(VA * (H[np.ix_(A, A)] @ VA))) - float(np.sum(VA * C[A]))
            + alpha * float(np.linalg.norm(VA, axis=1).sum()))


def _group_newton(H, C, V, HV, alpha, max_steps=50):
    """Damped Newton steps on the nonzero rows of V for the restricted group lasso.

    On its support the objective ``0.5 tr(V'HV) - tr(C'V) + alpha sum ||V_j||`` is smooth;
    Newton with Armijo backtracking converges quadratically there, where block CD on
    nearly collinear columns crawls. Moves that set a row to zero are taken when they
    lower the objective: a row whose block minimizer is zero (``||C_j - (HV)_j + H_jj V_j||
    <= alpha``, an exact block-CD step) or whose Newton step crosses zero. The system is
    regularized Levenberg-Marquardt style when the Cholesky factorization or the line
    search fails (nearly collinear active columns). Every accepted move decreases the
    objective. Updates V and HV in place; returns whether the objective decreased.
    """
    T = V.shape[1]
    eye = np.eye(T)
    diagH = np.diag(H)
    mu = 1e-12
    improved = False
    scale = max(alpha, float(np.abs(C).max()) if C.size else 0.0)
    for _ in range(max_steps):
        A = np.flatnonzero(np.any(V != 0, axis=1))
        if len(A) == 0:
            return improved
        VA = V[A]
        z = C[A] - HV[A] + diagH[A, None] * VA
        zn = np.linalg.norm(z, axis=1)
        if np.any(zn <= alpha):
            j = A[int(np.argmin(zn))]
            HV -= np.outer(H[:, j], V[j])
            V[j] = 0.0
            improved = True
            continue
        nrm = np.linalg.norm(VA, axis=1)
        U = VA / nrm[:, None]
        grad = HV[A] - C[A] + alpha * U
        if np.abs(grad).max() <= 1e-12 * scale:
            return improved
        nA = len(A)
        J = np.kron(H[np.ix_(A, A)], eye)
        J4 = J.reshape(nA, T, nA, T)
        ii = np.arange(nA)
        J4[ii, :, ii, :] += (alpha / nrm)[:, None, None] * (eye - U[:, :, None] * U[:, None, :])
        jscale = float(np.mean(np.diag(J)))
        H_AA = H[np.ix_(A, A)]
        HVA = H_AA @ VA
        CA = C[A]
        p = 0.5 * float(np.sum(VA * HVA)) - float(np.sum(VA * CA)) \
            + alpha * float(nrm.sum())
        moved = False
        while mu < 1.0 and not moved:
            try:
                cf = cho_factor(J + mu * jscale * np.eye(len(J)), check_finite=False)
                step = -cho_solve(cf, grad.ravel(), check_finite=False).reshape(VA.shape)
            except np.linalg.LinAlgError:
                mu *= 100.0
                continue
            slope = float(np.sum(grad * step))
            if not slope < 0:
                mu *= 100.0
                continue
            # A row whose step crosses zero: the penalty's kink is there, so the quadratic
            # model is wrong beyond it and the line search would crawl. Try the active-set
            # moves instead: follow the step to the crossing and drop that row there, or
            # drop it outright; take the better if it lowers the objective.
            cross = -np.einsum("ij,ij->i", U, step) / nrm
            i = int(np.argmax(cross))
            if cross[i] > 1.0:
                j = A[i]
                keep = np.delete(A, i)
                p0 = _group_objective(H, C, V, keep, alpha) if len(keep) else 0.0
                Vc = VA + step / cross[i]
                Vc[i] = 0.0
                Vfull = V.copy()
                Vfull[A] = Vc
                pc = _group_objective(H, C, Vfull, keep, alpha) if len(keep) else 0.0
                if min(p0, pc) < p:
                    if pc < p0:
                        V[A] = Vc
                        HV[:] = H[:, A] @ Vc
                    else:
                        HV -= np.outer(H[:, j], V[j])
                        V[j] = 0.0
                    improved = moved = True
                    break
            # The smooth part is a quadratic in t: p(t) = q0 + q1 t + q2 t^2 + penalty(t).
            HS = H_AA @ step
            q1 = float(np.sum(step * HVA)) - float(np.sum(step * CA))
            q2 = 0.5 * float(np.sum(step * HS))
            smooth0 = p - alpha * float(nrm.sum())
            t = 1.0
            while t > 1e-10:
                Vt = VA + t * step
                pt = smooth0 + t * (q1 + t * q2) + alpha * float(
                    np.sqrt(np.einsum("ij,ij->i", Vt, Vt)).sum())
                if pt <= p + 1e-4 * t * slope:
                    break
                t *= 0.5
            else:
                mu *= 100.0
                continue
            V[A] = Vt
            HV += t * (H[:, A] @ step)
            moved = True
            improved = improved or pt < p
            mu = max(mu * 0.1, 1e-12)
            if p - pt <= 1e-15 * max(abs(p), 1e-300):
                return improved
        if not moved:
            return improved
    return improved


class WorkingSetCD(WorkingSetDriver):
    """Working-set solver for the projected (group) lasso on the structured dictionary.

    The loop is :class:`~radonsolve.solvers.driver.WorkingSetDriver`'s; the restricted step
    is the incremental Gram path (module docstring).

    Parameters
    ----------
    tol : float, default=1e-6
        Stop when the duality gap is below ``tol`` times the objective of the affine fit.
    max_iter : int, default=100
        Maximum number of working-set (outer) iterations, each a restricted solve and a
        pricing pass; ``n_iter`` counts them.
    max_epochs : int, default=20000
        Per restricted solve: maximum CD epochs or Newton rounds (several outputs); ten
        times this many active-set steps (one output).
    ws_start : int, default=50
        Initial number of atoms brought in at once; later rounds bring in as many atoms as
        there are nonzero coefficients (the working set roughly doubles, as in celer).
    anderson : int, default=5
        Number of iterates combined by Anderson acceleration in the CD solver (0 disables it).
    inner : {'auto', 'active_set', 'cd'}, default='auto'
        Restricted solver. 'auto': the exact active-set method with one output, the Newton
        active-set method with several. 'active_set': the former (one output only). 'cd':
        Gram block coordinate descent with Anderson acceleration (the reference baseline).
    verbose : int, default=0

    Examples
    --------
    The working-set solver and the dense cvxpy reference agree on a small problem:

    >>> import numpy as np
    >>> from radonsolve.dictionary import ReLUDictionary
    >>> from radonsolve.lasso import ProjectedLasso
    >>> from radonsolve.solvers import CvxpySolver, WorkingSetCD
    >>> X = np.linspace(-1, 1, 9)[:, None]
    >>> problem = ProjectedLasso(ReLUDictionary(X, np.ones((1, 1))), np.abs(X) ** 1.5,
    ...                          np.full(9, 1 / 9), alpha=1e-3)
    >>> ours, ref = WorkingSetCD(tol=1e-10).solve(problem), CvxpySolver().solve(problem)
    >>> bool(np.isclose(ours.objective, ref.objective, rtol=1e-6))
    True
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
    def _restricted_group(self, H, C, V, bb, alpha, tol_in):
        """Group lasso on the Gram matrix by an active-set method: Newton on the support
        (exact once it is right), the most violating rows entering by exact block-CD steps.
        Falls back to block CD with Anderson acceleration if that stalls."""
        HV = H @ V
        diagH = np.diag(H)
        rounds = stalls = 0
        for rounds in range(1, self.max_epochs + 1):
            _group_newton(H, C, V, HV, alpha)
            p, d = gram_objective_and_gap(H, C, V, HV, bb, alpha)
            if p - d <= tol_in:
                return rounds
            G = C - HV
            gn = np.sqrt(np.einsum("ij,ij->i", G, G))
            inactive = ~np.any(V != 0, axis=1)
            viol = np.flatnonzero(inactive & (gn > alpha) & (diagH > 0))
            if len(viol) == 0:
                if _group_newton(H, C, V, HV, alpha):
                    continue
                # Newton stalls when a row heads for zero: the penalty's curvature alpha/||V_j||
                # blows up and the steps shrink. A few block-CD epochs set such rows exactly
                # to zero (their block minimizer is zero); then Newton resumes on the smaller
                # support. Only if that stops paying does block CD finish alone.
                stalls += 1
                if stalls > 20:
                    break
                gram_cd_epochs(H, C, V, HV, alpha, 5)
                continue
            # Up to half the support enters per round: with an eighth, the rounds (each a
            # Newton solve to convergence) were the cost (measured: 135 -> 66 rounds, 5.2 s
            # -> 3.2 s on a 2-D, three-output problem at 1e-3 alpha_max).
            n_add = max(4, int(np.sum(~inactive)) // 2)
            for j in viol[np.argsort(-gn[viol])[:n_add]]:
                gj = C[j] - HV[j]
                nj = float(np.linalg.norm(gj))
                if nj > alpha:
                    V[j] = (nj - alpha) / diagH[j] * gj / nj
                    HV += np.outer(H[:, j], V[j])
        return rounds + self._restricted_cd(H, C, V, bb, alpha, tol_in)

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

    def _restricted_active_set(self, H, C, V, alpha, cap):
        # The shared restricted kernel's one-output case; the Gram matrix is fixed, so no
        # proximal retry (the next pricing pass judges the result).
        v = np.ascontiguousarray(V[:, 0])
        n_iter, _ = restricted_lasso(H, np.ascontiguousarray(C[:, 0]), v, alpha, 1,
                                     10 * self.max_epochs, cap=cap, prox=False)
        V[:, 0] = v
        return n_iter

    # ------------------------------------------------------------------ main loop
    def solve(self, problem, warm_start=None, affine=None):
        """Solve ``problem`` (a :class:`radonsolve.lasso.ProjectedLasso`).

        Parameters
        ----------
        problem : ProjectedLasso
            Problem (P) on a dictionary.
        warm_start : tuple (idx, V) or None
            Atoms and coefficients to start from.
        affine : None, default=None
            Accepted for the solver protocol and ignored: the skip connection is eliminated
            by the projection (``problem.skip_connection`` recovers it).

        Returns
        -------
        SolverResult
            ``converged`` is True when the duality gap is at most ``tol`` times
            ``problem.affine_objective``.
        """
        # The dense products here are skinny (N x a few dozen columns) or small: a
        # multithreaded BLAS gains little on them and, measured on a busy 2-core machine,
        # OpenBLAS threads made them up to 1000x slower (and even the largest one, the Gram
        # extension, was 1.3x slower with 2 threads than with 1). One BLAS thread for the
        # solve (as scikit-learn's KMeans does); the structured passes stay parallel.
        with threadpool_limits(limits=1, user_api="blas"):
            return self._solve(problem, warm_start)

    def _solve(self, problem, warm_start):
        st = SimpleNamespace(t0=time.perf_counter())
        b = problem.b
        N, T = b.shape
        st.b, st.bb = b, float(np.sum(b * b))
        st.use_as = (self.inner == "active_set" or (self.inner == "auto" and T == 1)) and \
            problem.alpha > 0
        if self.inner == "active_set" and T != 1:
            raise ValueError("inner='active_set' needs a single output; use 'cd' or 'auto'.")
        st.idx, st.V = merge_warm_start(warm_start, T)
        st.timing = dict.fromkeys(("price", "select", "columns", "gram", "inner", "residual"),
                                  0.0)
        tic = time.perf_counter()
        # Dense projected columns of the working set live in a Fortran-ordered buffer that
        # grows by doubling, so adding atoms writes new columns instead of copying G.
        k = len(st.idx)
        st.G_buf = np.empty((N, max(2 * k, 256)), order="F")
        if k:
            st.G_buf[:, :k] = problem.projected_columns(st.idx)
        st.k = k
        G = st.G_buf[:, :k]
        st.H = G.T @ G
        st.C = G.T @ b
        st.rho = b - G @ st.V
        st.timing["columns"] += time.perf_counter() - tic
        # Rank bound on the number of active atoms (projected columns live in an
        # (N - rank[1, X])-dimensional space).
        st.cap = max(N - problem.projector.rank, 1)
        st.in_ws = np.zeros(problem.dictionary.n_atoms, dtype=bool)
        st.in_ws[st.idx] = True
        st.inner_total = 0
        return self._loop(problem, st, 0)

    # ------------------------------------------------------------------ driver hooks
    def _label(self, problem):
        return "Working-set solver"

    def _scale(self, problem):
        return problem.affine_objective

    def _nnz(self, st):
        return int(np.sum(np.any(st.V != 0, axis=1)))

    def _price(self, problem, st):
        tic = time.perf_counter()
        out = problem.gap(st.rho, st.V)
        st.timing["price"] += time.perf_counter() - tic
        return out

    def _stalled(self, problem, st, gap, tol_abs):
        # The restricted solve is exact (or tightened through tol_in): solve again.
        return None

    def _add(self, problem, st, cand, gap, tol_abs):
        """The Gram matrix grows by the new columns only (constant Hessian)."""
        toc = time.perf_counter()
        m, k, N = len(cand), st.k, st.b.shape[0]
        if k + m > st.G_buf.shape[1]:
            new_buf = np.empty((N, max(2 * st.G_buf.shape[1], k + m)), order="F")
            new_buf[:, :k] = st.G_buf[:, :k]
            st.G_buf = new_buf
        st.G_buf[:, k:k + m] = problem.projected_columns(cand)
        G_new = st.G_buf[:, k:k + m]
        tic = time.perf_counter()
        st.timing["columns"] += tic - toc
        cross = st.G_buf[:, :k + m].T @ G_new
        st.H = np.block([[st.H, cross[:k]], [cross[:k].T, cross[k:]]])
        st.C = np.vstack([st.C, G_new.T @ st.b])
        st.k = k + m
        st.idx = np.concatenate([st.idx, cand])
        st.V = np.vstack([st.V, np.zeros((m, st.V.shape[1]))])
        st.in_ws[cand] = True
        st.timing["gram"] += time.perf_counter() - tic

    def _restricted(self, problem, st, gap, tol_abs):
        alpha = problem.alpha
        G = st.G_buf[:, :st.k]
        tic = time.perf_counter()
        if alpha == 0:
            # No penalty: the restricted problem is least squares, solved exactly (the
            # iterative solvers' restricted gap never closes when the optimum is
            # positive, see ProjectedLasso.gap). Support reduction thins it afterwards.
            st.V[:] = np.linalg.lstsq(G, st.b, rcond=None)[0]
            st.inner_total += 1
        elif st.use_as:
            st.inner_total += self._restricted_active_set(st.H, st.C, st.V, alpha, st.cap)
        else:
            tol_in = max(0.3 * gap, 0.1 * tol_abs)
            if self.inner == "cd":
                st.inner_total += self._restricted_cd(st.H, st.C, st.V, st.bb, alpha, tol_in)
            else:
                st.inner_total += self._restricted_group(st.H, st.C, st.V, st.bb, alpha,
                                                         tol_in)
        toc = time.perf_counter()
        st.timing["inner"] += toc - tic
        nz = np.flatnonzero(np.any(st.V != 0, axis=1))
        st.rho = st.b - G[:, nz] @ st.V[nz]
        st.timing["residual"] += time.perf_counter() - toc

    def _finish(self, problem, st, primal, dual, gap, converged, n_iter, history, t0):
        if self.verbose:
            print("[ws] time: " + ", ".join(f"{key} {val:.3f}s" for key, val in
                                            st.timing.items())
                  + f", total {time.perf_counter() - t0:.3f}s")
        self.timing_ = st.timing
        # Restricted-solver steps (n_iter counts working-set iterations, what max_iter
        # bounds; the initial pricing pass that finds the start optimal counts as one).
        self.n_inner_ = st.inner_total
        keep = np.any(st.V != 0, axis=1)
        return SolverResult(idx=st.idx[keep], coef=st.V[keep], objective=primal,
                            dual_gap=gap, n_iter=n_iter, converged=converged,
                            history=history, time=time.perf_counter() - t0)
