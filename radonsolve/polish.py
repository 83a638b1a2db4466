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
from threadpoolctl import threadpool_limits

from ._blocks import row_blocks

__all__ = ["polish_network", "weight_decay_value_grad"]


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
