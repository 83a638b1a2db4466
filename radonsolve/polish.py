"""Polish: local descent of (P) on a finite set of neurons, in its weight-decay form.

The exchange method (:mod:`radonsolve.refine`) moves all active neurons at once with this
descent and feeds the moved directions back to the convex solve as candidates (DESIGN §11,
sliding Frank-Wolfe's joint step). The descent works on

    0.5 ||b - P sqrt(u) relu(X W^T - bias) V||^2 + (alpha / 2) (||W||^2 + ||V||^2),

the affine part eliminated by the projector P, whose minimum over rescalings of the neurons is
(P) (DESIGN §1); its local minima are those of (P).
"""

import numpy as np
from numba import njit
from scipy.optimize import minimize
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from ._blocks import row_blocks

__all__ = ["polish_network", "weight_decay_start", "weight_decay_value_grad"]


@njit(cache=True, fastmath=True)
def weight_decay_value_grad(XT, W, bias, V, su, Q, b, alpha, gW, gb, gV, block):
    """Value and gradient of the weight-decay form of (P) with the affine part eliminated.

    ``0.5 ||rho||^2 + (alpha/2) (||W||^2 + ||V||^2)`` with ``rho = b - P (su * relu(X W^T -
    bias) V)``, P = I - Q Q^T, X given transposed (XT, shape (d, N)). Since P rho = rho, the
    gradient with respect to the unprojected network output is ``-su * rho``. Serial on
    purpose: the sizes are small (active neurons only) and threads contend on a shared
    machine; sample-contiguous loops so that they vectorize.

    The pre-activations live in a (K, block) buffer: phase 0 accumulates the network output
    block by block, phase 1 the gradients, recomputing a block's pre-activations only when
    the samples do not fit in one block (the memory stays K x block, not K x N).

    Parameters
    ----------
    XT : ndarray of shape (n_features, n_samples)
        Inputs, transposed (C-contiguous).
    W : ndarray of shape (n_neurons, n_features)
        Input weights.
    bias : ndarray of shape (n_neurons,)
        Biases (pre-activation ``w.x - bias``).
    V : ndarray of shape (n_neurons, n_outputs)
        Outer weights.
    su : ndarray of shape (n_samples,)
        Square roots of the normalized sample weights.
    Q : ndarray of shape (n_samples, rank)
        Orthonormal basis of the scaled affine functions (``AffineProjector.Q``).
    b : ndarray of shape (n_samples, n_outputs)
        Projected scaled targets.
    alpha : float
        Regularization strength.
    gW, gb, gV : ndarray of the shapes of W, bias and V
        Overwritten with the gradient of the returned objective.
    block : int
        Samples per block of pre-activations.

    Returns
    -------
    objective : float
        ``0.5 ||rho||^2 + (alpha/2) (||W||^2 + ||V||^2)``.
    loss : float
        Its data-fit part ``0.5 ||rho||^2``.
    """
    d, N = XT.shape
    K = W.shape[0]
    T = V.shape[1]
    r = Q.shape[1]
    B = max(1, min(block, N))
    Z = np.empty((K, B))
    sv = np.empty(B)
    F = np.zeros((T, N))
    S = np.empty((T, N))
    C = np.empty(r)
    loss = 0.0
    for k in range(K):
        gb[k] = 0.0
        for i in range(d):
            gW[k, i] = 0.0
        for t in range(T):
            gV[k, t] = 0.0
    for phase in range(2):
        for n0 in range(0, N, B):
            n1 = min(n0 + B, N)
            nb = n1 - n0
            if phase == 0 or B < N:
                for k in range(K):
                    zk = Z[k, :nb]
                    bk = bias[k]
                    for n in range(nb):
                        zk[n] = -bk
                    for i in range(d):
                        w = W[k, i]
                        xi = XT[i, n0:n1]
                        for n in range(nb):
                            zk[n] += w * xi[n]
            if phase == 0:
                for k in range(K):
                    zk = Z[k, :nb]
                    for t in range(T):
                        v = V[k, t]
                        Ft = F[t, n0:n1]
                        for n in range(nb):
                            Ft[n] += max(zk[n], 0.0) * v
                continue
            Sb = S[:, n0:n1]
            for k in range(K):
                zk = Z[k, :nb]
                for n in range(nb):
                    s = 0.0
                    for t in range(T):
                        s += Sb[t, n] * V[k, t]
                    sv[n] = s if zk[n] > 0.0 else 0.0
                acc = 0.0
                for n in range(nb):
                    acc += sv[n]
                gb[k] += acc
                for i in range(d):
                    xi = XT[i, n0:n1]
                    acc = 0.0
                    for n in range(nb):
                        acc += sv[n] * xi[n]
                    gW[k, i] -= acc
                for t in range(T):
                    St = Sb[t]
                    acc = 0.0
                    for n in range(nb):
                        acc += max(zk[n], 0.0) * St[n]
                    gV[k, t] -= acc
        if phase == 0:
            for t in range(T):
                Ft = F[t]
                for n in range(N):
                    Ft[n] *= su[n]
                for j in range(r):
                    C[j] = 0.0
                for n in range(N):
                    for j in range(r):
                        C[j] += Q[n, j] * Ft[n]
                for n in range(N):
                    v = b[n, t] - Ft[n]
                    for j in range(r):
                        v += Q[n, j] * C[j]
                    loss += v * v
                    S[t, n] = su[n] * v
    reg = 0.0
    for k in range(K):
        for i in range(d):
            gW[k, i] += alpha * W[k, i]
            reg += W[k, i] * W[k, i]
        for t in range(T):
            gV[k, t] += alpha * V[k, t]
            reg += V[k, t] * V[k, t]
    loss *= 0.5
    return loss + 0.5 * alpha * reg, loss


def polish_network(X, b, projector, weights, biases, outer, alpha, *, max_iter=100):
    """Local descent (L-BFGS) of (P) over the neurons ``(w_k, b_k, v_k)`` jointly.

    Works on the weight-decay form, started at the balanced rescaling of the given neurons,
    where it equals (P); its local minima are those of (P) (DESIGN §1).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    b : ndarray of shape (n_samples, n_outputs)
        Projected scaled targets of the problem.
    projector : AffineProjector
    weights : ndarray of shape (K, n_features)
    biases : ndarray of shape (K,)
    outer : ndarray of shape (K, n_outputs)
    alpha : float
    max_iter : int

    Returns
    -------
    weights, biases, outer : the moved neurons (weights not normalized)
    objective : float
        Value of (P) (path-norm form) at the moved neurons with the optimal affine part.
    """
    XT = np.ascontiguousarray(np.asarray(X, dtype=float).T)
    V0 = np.asarray(outer, dtype=float)
    K, T = V0.shape
    d = XT.shape[0]
    su = np.ascontiguousarray(projector.sqrt_u)
    Q = np.ascontiguousarray(projector.Q)
    bb = np.ascontiguousarray(b, dtype=float)
    nw = np.linalg.norm(weights, axis=1)
    g = np.sqrt(np.maximum(np.linalg.norm(V0, axis=1), 1e-300) / np.maximum(nw, 1e-300))
    # Biases at data projections sit on a kink of the ReLU, where the one-sided gradient can
    # stop L-BFGS's first line search: start a hair below (the point at the bias active),
    # a hair relative to the scale of the projections, whatever the units of X.
    biases = np.asarray(biases, dtype=float)
    proj_scale = np.abs(np.asarray(weights, dtype=float)).sum(axis=1) * \
        float(np.abs(XT).max(initial=0.0))
    biases = biases - 1e-9 * np.maximum(proj_scale, np.abs(biases))
    th0 = np.concatenate([(weights * g[:, None]).ravel(), biases * g,
                          (V0 / g[:, None]).ravel()])
    gW = np.empty((K, d))
    gb = np.empty(K)
    gV = np.empty((K, T))
    # Samples per block of the (neurons x samples) pre-activations inside the kernel.
    first = row_blocks(XT.shape[1], K)[0]
    block = max(1, first.stop - first.start)

    def unpack(th):
        return (th[:K * d].reshape(K, d), th[K * d:K * d + K], th[K * d + K:].reshape(K, T))

    # L-BFGS-B's stopping tests are absolute below 1 (ftol compares the decrease with
    # max(|f|, 1)): the objective is divided by the affine fit's so that they are relative,
    # and the descent does the same in any units of y.
    fscale = max(0.5 * float(np.sum(bb * bb)), np.finfo(float).tiny)

    def fg(th):
        Wt, bt, Vt = unpack(th)
        f, _ = weight_decay_value_grad(XT, Wt, bt, Vt, su, Q, bb, alpha, gW, gb, gV, block)
        return f / fscale, np.concatenate([gW.ravel(), gb, gV.ravel()]) / fscale

    with threadpool_limits(limits=1, user_api="blas"):
        # gtol is absolute too: relative to the gradient at the start, whose size follows
        # the units of X (the variables scale with them).
        g0 = np.abs(fg(th0)[1]).max(initial=0.0)
        res = minimize(fg, th0, jac=True, method="L-BFGS-B",
                       options={"maxiter": int(max_iter),
                                "gtol": 1e-14 * max(g0, np.finfo(float).tiny), "ftol": 1e-15,
                                "maxcor": 20})
    Wt, bt, Vt = (a.copy() for a in unpack(res.x))
    _, loss = weight_decay_value_grad(XT, Wt, bt, Vt, su, Q, bb, alpha, gW, gb, gV, block)
    obj = loss + alpha * float(np.sum(np.linalg.norm(Wt, axis=1) * np.linalg.norm(Vt, axis=1)))
    return Wt, bt, Vt, obj


def _random_neurons(X, K, T, scale, rng):
    """K neurons: uniform unit directions, hyperplanes through random data points, output
    weights uniform in [-scale, scale]."""
    N, d = X.shape
    W = rng.standard_normal((K, d))
    W /= np.maximum(np.linalg.norm(W, axis=1), np.finfo(float).tiny)[:, None]
    bias = np.einsum("kd,kd->k", W, X[rng.randint(0, N, K)])
    return W, bias, rng.uniform(-scale, scale, (K, T))


def weight_decay_start(X, b, projector, alpha, *, n_neurons="auto", max_iter=300,
                       random_state=None):
    """Directions from a short over-parameterized descent of the weight-decay form of (P).

    Random neurons (unit directions drawn uniformly, hyperplanes through random data
    points, small random output weights) descend jointly by :func:`polish_network`. With
    many more neurons than the solution has, this descent gets near the optimum of (P)
    quickly (gradient flow on an over-parameterized network, whose mean-field limit
    converges globally: Chizat & Bach, NeurIPS 2018); the convex solve then takes its
    directions with exact biases and optimal output weights, and the exchange method
    verifies and tops up (DESIGN §11, item 1).

    With ``n_neurons="auto"`` the width adapts: 256 neurons descend first (half of
    ``max_iter``); if more than three quarters of them still carry output (path norm
    above 1e-3 of the largest: the width was not several times what the solution needs),
    the survivors are kept, fresh neurons are added up to four times the width (at most
    ``min(n_samples, 4096)``: the representer bound needs no more than n_samples
    neurons), and the descent goes on for ``max_iter`` iterations. At small alpha the
    width is what decides how close the descent gets; four times is a compromise with the
    time the exchange rounds need afterwards (benchmarks/results/start_width.md).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    b : ndarray of shape (n_samples, n_outputs)
        Projected scaled targets of the problem (``ProjectedLasso.b``).
    projector : AffineProjector
        The affine projector of the problem (weights u).
    alpha : float
        Regularization strength, > 0.
    n_neurons : "auto" or int, default="auto"
        Width of the descent (an int: that width, one stage of ``max_iter`` iterations).
    max_iter : int, default=300
        L-BFGS iterations per stage.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    directions : ndarray of shape (n_kept, n_features)
        Unit directions of the neurons that still carry output (their path norm
        ``||w_k|| ||v_k||`` above 1e-6 of the largest).
    objective : float
        (P) at the descended network (an upper bound on the optimum of (P)).

    Examples
    --------
    A planted ReLU ridge in 3-D: the descent ends below the affine fit.

    >>> import numpy as np
    >>> from radonsolve.affine import AffineProjector
    >>> from radonsolve.polish import weight_decay_start
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3))
    >>> y = np.maximum(X @ [1.0, -1.0, 0.5] - 0.3, 0)
    >>> P = AffineProjector(X, np.full(200, 1 / 200))
    >>> b = P.project(P.sqrt_u[:, None] * y[:, None])
    >>> W, obj = weight_decay_start(X, b, P, 1e-3, n_neurons=64, max_iter=100,
    ...                             random_state=0)
    >>> W.shape[1], bool(obj < 0.5 * np.sum(b ** 2))
    (3, True)
    """
    X = np.asarray(X, dtype=float)
    bb = np.asarray(b, dtype=float)
    N, d = X.shape
    T = bb.shape[1]
    rng = check_random_state(random_state)
    auto = isinstance(n_neurons, str)
    cap = min(N, 4096) if auto else int(n_neurons)
    K = min(256, cap) if auto else cap
    # Output weights that give the network the size of the targets (sqrt(K) neurons of
    # random sign, each of the size of the projections): the start is neither dead nor
    # far out, in any units of X and y.
    target = float(np.sqrt(np.sum(bb * bb)))
    W, bias, V = _random_neurons(X, K, T, 1.0, rng)
    spread = float(np.mean(np.std(X @ W[:min(K, 32)].T, axis=0))) or 1.0
    V *= target / (spread * np.sqrt(K))
    iters = max(1, int(max_iter) // 2) if auto else int(max_iter)
    while True:
        W, bias, V, obj = polish_network(X, bb, projector, W, bias, V, alpha, max_iter=iters)
        mass = np.linalg.norm(W, axis=1) * np.linalg.norm(V, axis=1)
        top = max(float(mass.max(initial=0.0)), np.finfo(float).tiny)
        alive = mass > 1e-3 * top
        if not auto or K >= cap or alive.sum() <= 0.75 * K:
            break
        K_new = min(4 * K, cap)
        W2, b2, V2 = _random_neurons(X, K_new - int(alive.sum()), T,
                                     target / (spread * np.sqrt(K_new)), rng)
        # polish_network rebalances every neuron (equal ||w|| and ||v||) on entry.
        W = np.vstack([W[alive], W2])
        bias = np.concatenate([bias[alive], b2])
        V = np.vstack([V[alive], V2])
        K = K_new
        iters = int(max_iter)
    keep = mass > 1e-6 * top
    D = W[keep]
    return D / np.linalg.norm(D, axis=1)[:, None], float(obj)
