"""The fitted object: a shallow ReLU network with an affine skip connection.

    f(x) = sum_k outer_k * max(weights_k . x - biases_k, 0) + skip_coef . x + skip_intercept

Canonical form (DESIGN §1): unit-norm rows of ``weights`` on the half-sphere whose first
nonzero coordinate is positive, no two neurons on the same hyperplane, no zero outputs.
Only in canonical form does ``sum_k ||outer_k||`` equal the RTV2 seminorm of f.
"""

import numpy as np

__all__ = ["ReLUNetwork"]


def _as_outputs(a, K, T):
    a = np.asarray(a, dtype=float)
    return a.reshape(K, T) if T else a.reshape(K)


class ReLUNetwork:
    """A shallow ReLU network ``sum_k outer_k max(w_k.x - b_k, 0) + skip``.

    Parameters
    ----------
    weights : array-like of shape (n_neurons, n_features)
        Input weights (directions). Rows need not be normalized: the constructor moves their
        norms into ``outer`` and ``biases`` (ReLU is positively homogeneous).
    biases : array-like of shape (n_neurons,)
    outer : array-like of shape (n_neurons,) or (n_neurons, n_outputs)
        Output weights.
    skip_coef : array-like of shape (n_features,) or (n_features, n_outputs)
        Linear part of the unpenalized skip connection.
    skip_intercept : float or array-like of shape (n_outputs,)
        Constant part of the skip connection.
    canonicalize : bool, default=True
        Put the network in canonical form (unit half-sphere directions, merged hyperplanes,
        zero neurons dropped). The function computed is unchanged.
    merge_tol : float, default=1e-10
        Two neurons whose (direction, bias) differ by at most this are merged.

    Attributes
    ----------
    weights, biases, outer, skip_coef, skip_intercept : ndarray
        The parameters (after canonicalization if requested).
    n_neurons : int
    n_features : int
    n_outputs : int or None
        None for a single output (``outer`` is 1-D).

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve import ReLUNetwork
    >>> net = ReLUNetwork([[2.0]], [1.0], [3.0], [0.0], 0.0)
    >>> net.weights, net.biases, net.outer
    (array([[1.]]), array([0.5]), array([6.]))
    >>> float(net.predict(np.array([[1.0]]))[0])
    3.0
    """

    def __init__(self, weights, biases, outer, skip_coef, skip_intercept, *,
                 canonicalize=True, merge_tol=1e-10):
        W = np.atleast_2d(np.asarray(weights, dtype=float))
        skip_coef = np.asarray(skip_coef, dtype=float)
        d = skip_coef.shape[0] if skip_coef.ndim else W.shape[1]
        W = W.reshape(-1, d)
        K = W.shape[0]
        outer = np.asarray(outer, dtype=float)
        T = outer.shape[1] if outer.ndim == 2 else None
        if skip_coef.ndim == 2 and T is None:
            T = skip_coef.shape[1]
        self.weights = W
        self.biases = np.asarray(biases, dtype=float).reshape(K)
        self.outer = _as_outputs(outer, K, T)
        self.skip_coef = skip_coef.reshape(d, T) if T else skip_coef.reshape(d)
        si = np.asarray(skip_intercept, dtype=float)
        self.skip_intercept = si.reshape(T) if T else float(si)
        if canonicalize:
            self._canonicalize(merge_tol)

    # ------------------------------------------------------------------ structure
    @property
    def n_neurons(self):
        return self.weights.shape[0]

    @property
    def n_features(self):
        return self.weights.shape[1]

    @property
    def n_outputs(self):
        return self.outer.shape[1] if self.outer.ndim == 2 else None

    def _outer_norms(self):
        if self.outer.ndim == 2:
            return np.linalg.norm(self.outer, axis=1)
        return np.abs(self.outer)

    @property
    def rtv2(self):
        """RTV2 seminorm: sum of output-weight norms of the canonical network."""
        net = self if self._is_canonical else self.canonical()
        return float(net._outer_norms().sum())

    # ------------------------------------------------------------------ evaluation
    def hidden(self, X):
        """Neuron activations ``max(X w_k - b_k, 0)``, shape (n_samples, n_neurons)."""
        X = np.asarray(X, dtype=float)
        return np.maximum(X @ self.weights.T - self.biases, 0.0)

    def predict(self, X):
        """Network output at the rows of X."""
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X.reshape(-1, self.n_features)
        out = self.hidden(X) @ self.outer + X @ self.skip_coef + self.skip_intercept
        return out

    __call__ = predict

    # ------------------------------------------------------------------ canonical form
    def _canonicalize(self, tol):
        W, b, v = self.weights, self.biases, self.outer
        T = self.n_outputs
        norms = np.linalg.norm(W, axis=1)
        keep = (norms > 0) & (self._outer_norms() > 0)
        W, b, v, norms = W[keep], b[keep], v[keep], norms[keep]
        # max(s w.x - s b, 0) = s max(w.x - b, 0) for s > 0: unit rows, scale into outer.
        W = W / norms[:, None]
        b = b / norms
        v = v * (norms[:, None] if T else norms)
        skip_coef = self.skip_coef.copy()
        skip_int = np.array(self.skip_intercept, dtype=float, copy=True)
        # Half-sphere: first nonzero coordinate positive; the affine difference of the two
        # orientations moves into the skip connection.
        if W.shape[0]:
            first = np.argmax(np.abs(W) > 1e-15, axis=1)
            flip = W[np.arange(W.shape[0]), first] < 0
            if flip.any():
                vf = v[flip]
                # v max(z, 0) = v max(-z, 0) + v z with z = w.x - b (w before the flip).
                skip_coef += W[flip].T @ vf
                skip_int = skip_int - b[flip] @ vf
                W[flip] *= -1
                b[flip] *= -1
        # Merge neurons on the same hyperplane (same (w, b) up to tol): coefficients add.
        if W.shape[0] > 1:
            key = np.column_stack([W, b])
            order = np.lexsort(key.T[::-1])
            key, W, b, v = key[order], W[order], b[order], v[order]
            groups = np.zeros(len(b), dtype=int)
            g = 0
            for i in range(1, len(b)):
                if np.max(np.abs(key[i] - key[i - 1])) > tol:
                    g += 1
                groups[i] = g
            n_groups = g + 1
            if n_groups < len(b):
                first_idx = np.searchsorted(groups, np.arange(n_groups))
                W, b = W[first_idx], b[first_idx]
                vs = np.zeros((n_groups,) + v.shape[1:])
                np.add.at(vs, groups, v)
                v = vs
        nz = (np.linalg.norm(v, axis=1) if T else np.abs(v)) > 0
        self.weights, self.biases, self.outer = W[nz], b[nz], v[nz]
        self.skip_coef = skip_coef
        self.skip_intercept = skip_int if T else float(skip_int)
        self._is_canonical = True

    _is_canonical = False

    def canonical(self, merge_tol=1e-10):
        """A canonical copy of this network (same function, RTV2 = sum of |outer|)."""
        return ReLUNetwork(self.weights, self.biases, self.outer, self.skip_coef,
                           self.skip_intercept, canonicalize=True, merge_tol=merge_tol)

    def balanced(self):
        """Weight-decay parameterization: input weights and output weights with equal norms.

        Returns ``(W, b, V)`` with ``f = max(X W^T - b, 0) V + skip`` and
        ``||W_k|| = ||V_k||`` for every neuron, the balanced point of the rescaling
        ``(v, w, b) -> (v/g, g w, g b)`` that weight decay selects. Then
        ``0.5 * (||V||^2 + ||W||^2) = sum_k ||V_k|| = rtv2``.
        """
        net = self if self._is_canonical else self.canonical()
        n = net._outer_norms()
        g = np.sqrt(n)
        W = net.weights * g[:, None]
        b = net.biases * g
        V = net.outer / (g[:, None] if net.outer.ndim == 2 else g)
        return W, b, V

    def to_arrays(self):
        """Plain dict of copies of the parameters (for saving with ``np.savez``)."""
        return {
            "weights": self.weights.copy(),
            "biases": self.biases.copy(),
            "outer": self.outer.copy(),
            "skip_coef": np.array(self.skip_coef, copy=True),
            "skip_intercept": np.array(self.skip_intercept, copy=True),
        }

    @classmethod
    def from_arrays(cls, arrays, **kwargs):
        return cls(arrays["weights"], arrays["biases"], arrays["outer"],
                   arrays["skip_coef"], arrays["skip_intercept"], **kwargs)

    def to_torch(self, balanced=True, dtype=None):
        """Export as a ``torch.nn.Module`` (requires the ``torch`` extra)."""
        from ._torch import network_to_torch
        return network_to_torch(self, balanced=balanced, dtype=dtype)

    def __repr__(self):
        return (f"ReLUNetwork(n_neurons={self.n_neurons}, n_features={self.n_features}, "
                f"n_outputs={self.n_outputs}, rtv2={self.rtv2:.6g})")
