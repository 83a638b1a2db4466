"""The fitted object: a shallow ReLU network with an affine skip connection.

    f(x) = sum_k outer_k * max(weights_k . x - biases_k, 0) + skip_coef . x + skip_intercept

Canonical form (DESIGN §1): unit-norm rows of ``weights`` on the half-sphere whose first
nonzero coordinate is positive, no two neurons on the same hyperplane, no zero outputs.
Only in canonical form does ``sum_k ||outer_k||`` equal the RTV2 seminorm of f.

Canonicalization keeps the function: every rewrite it makes is an identity of the ReLU
(positive homogeneity, ``max(-z, 0) = max(z, 0) - z``, sums of neurons on one hyperplane),
and the only approximation is the merging of neurons whose hyperplanes agree to the relative
tolerance ``merge_tol``. Every tolerance is relative to the scale of what it compares, so
rescaling the inputs by s (biases times s, output weights and skip slopes divided by s) or the
outputs by c gives the same canonical network, rescaled.

Evaluation over samples works in row blocks (:func:`radonsolve._blocks.row_blocks`), so the
memory of :meth:`ReLUNetwork.predict` beyond its output does not grow with the number of rows.
"""

import numpy as np

from ._blocks import row_blocks

__all__ = ["ReLUNetwork"]

_EPS = np.finfo(float).eps


def _shaped(name, a, shapes):
    """``a`` as a float array of the first shape in ``shapes`` with its size, else ValueError."""
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of real numbers ({exc}).") from None
    for shape in shapes:
        if arr.shape == shape or _compatible(arr.shape, shape):
            arr = arr.reshape(shape)
            break
    else:
        want = " or ".join(str(s) for s in shapes)
        raise ValueError(f"{name} has shape {arr.shape}; expected {want}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (it contains NaN or infinity).")
    return arr


def _compatible(have, want):
    """Whether ``have`` is ``want`` up to dropped or added axes of length one."""
    return [s for s in have if s != 1] == [s for s in want if s != 1]


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
        Put the network in canonical form. The function computed is unchanged (up to the
        merge tolerance below): a row of ``weights`` of zero norm is the constant
        ``outer_k * max(-b_k, 0)`` and moves into ``skip_intercept``; row norms move into
        ``outer`` and ``biases``; a direction off the half-sphere is flipped and the affine
        difference ``max(z, 0) - max(-z, 0) = z`` moves into the skip connection; neurons on
        the same hyperplane (either orientation) merge, their output weights adding. A
        neuron is dropped only when its output weight is exactly zero, or when merging
        cancelled it down to the rounding error of the sum (``||sum_j v_j|| <= m * eps *
        sum_j ||v_j||`` for m merged neurons). Neurons are never dropped because their
        hyperplane misses some data: the network does not know the data. A neuron whose
        bias divided by its row norm overflows has its kink beyond the floating-point range;
        it is affine on every representable input and moves into the skip connection.
    merge_tol : float, default=1e-10
        Relative tolerance, in [0, 1), for merging two neurons (after normalization)
        ``(w_i, b_i)`` and ``(w_j, b_j)`` into one hyperplane: with ``s = sign(w_i . w_j)``,
        the directions must agree in angle, ``||w_i - s w_j|| <= merge_tol`` (unit vectors:
        dimensionless), and the biases relative to their scale,
        ``|b_i - s b_j| <= merge_tol * max(|b_i|, |b_j|, bias_scale)``. Neurons are grouped
        around a leader (never chained), so merged neurons lie within this tolerance of the
        neuron that represents them.
    bias_scale : float or None, default=None
        Floor of the scale that bias differences are relative to (units of x), so that
        biases near zero that differ by rounding merge. None uses the median of the
        normalized ``|b_k|`` (a robust proxy of the data scale: one far-away hyperplane
        cannot inflate it). Pass the data scale (e.g. ``max_n ||x_n||``) when it is known.

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

    A zero row is a constant, kept in the intercept:

    >>> net = ReLUNetwork([[0.0], [1.0]], [-0.5, 0.0], [2.0, 1.0], [0.0], 0.0)
    >>> net.n_neurons, net.skip_intercept
    (1, 1.0)
    """

    def __init__(self, weights, biases, outer, skip_coef, skip_intercept, *,
                 canonicalize=True, merge_tol=1e-10, bias_scale=None):
        skip_coef = np.asarray(skip_coef, dtype=float)
        outer_arr = np.asarray(outer, dtype=float)
        W = np.asarray(weights, dtype=float)
        if W.ndim == 2 and W.size:
            d = W.shape[1]
        elif skip_coef.ndim >= 1:
            d = skip_coef.shape[0]
        else:
            d = W.size if W.ndim == 1 else 1
        if W.size == 0:
            W = W.reshape(0, d)
        elif W.ndim < 2:
            W = W.reshape(1, -1)
        if W.ndim != 2 or W.shape[1] != d:
            raise ValueError(f"weights has shape {W.shape}; expected (n_neurons, {d}).")
        W = _shaped("weights", W, [W.shape])
        if skip_coef.ndim >= 1 and skip_coef.shape[0] != d:
            raise ValueError(f"skip_coef has shape {skip_coef.shape}; expected {d} rows, the "
                             f"n_features of weights (shape {W.shape}).")
        K = W.shape[0]
        T = outer_arr.shape[1] if outer_arr.ndim == 2 else None
        if skip_coef.ndim == 2 and T is None:
            T = skip_coef.shape[1]
        self.weights = W
        self.biases = _shaped("biases", biases, [(K,)])
        self.outer = _shaped("outer", outer_arr, [(K, T)] if T else [(K,)])
        self.skip_coef = _shaped("skip_coef", skip_coef, [(d, T)] if T else [(d,)])
        si = _shaped("skip_intercept", skip_intercept, [(T,)] if T else [()])
        self.skip_intercept = si if T else float(si)
        if canonicalize:
            merge_tol = float(merge_tol)
            if not 0.0 <= merge_tol < 1.0:
                raise ValueError(f"merge_tol must be in [0, 1); got {merge_tol!r}.")
            if bias_scale is not None:
                bias_scale = float(bias_scale)
                if not (np.isfinite(bias_scale) and bias_scale >= 0):
                    raise ValueError(
                        f"bias_scale must be a finite nonnegative number or None; "
                        f"got {bias_scale!r}.")
            self._canonicalize(merge_tol, bias_scale)

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
    def _check_X(self, X):
        X = np.asarray(X)
        if X.ndim == 1:
            X = X.reshape(-1, self.n_features)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X has shape {X.shape}; expected (n_samples, "
                             f"{self.n_features}).")
        return X

    def hidden(self, X):
        """Neuron activations ``max(X w_k - b_k, 0)``.

        This materializes an (n_samples, n_neurons) array by definition; :meth:`predict`
        never builds it whole.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        H : ndarray of shape (n_samples, n_neurons)

        Examples
        --------
        >>> from radonsolve import ReLUNetwork
        >>> ReLUNetwork([[1.0]], [0.5], [1.0], [0.0], 0.0).hidden([[0.0], [2.0]])
        array([[0. ],
               [1.5]])
        """
        X = np.asarray(self._check_X(X), dtype=float)
        return np.maximum(X @ self.weights.T - self.biases, 0.0)

    def predict(self, X):
        """Network output at the rows of X, evaluated in row blocks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A 1-D array is read as rows of ``n_features`` values.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)

        Examples
        --------
        >>> from radonsolve import ReLUNetwork
        >>> net = ReLUNetwork([[1.0]], [0.5], [2.0], [1.0], 0.25)
        >>> net.predict([[0.0], [1.0]])
        array([0.25, 2.25])
        """
        X = self._check_X(X)
        N = X.shape[0]
        T = self.n_outputs
        out = np.empty((N, T) if T else N)
        W, b, V = self.weights, self.biases, self.outer
        # One block of activations (block x K) alive at a time: memory beyond the output
        # does not grow with N.
        for sl in row_blocks(N, max(self.n_neurons, self.n_features, 1)):
            Xb = np.asarray(X[sl], dtype=float)
            H = Xb @ W.T
            H -= b
            np.maximum(H, 0.0, out=H)
            ob = H @ V
            ob += Xb @ self.skip_coef
            ob += self.skip_intercept
            out[sl] = ob
        return out

    __call__ = predict

    # ------------------------------------------------------------------ canonical form
    def _canonicalize(self, tol, bias_scale):
        T = self.n_outputs
        W, b = self.weights, self.biases
        v = self.outer.reshape(len(b), T or 1)
        c = self.skip_coef.reshape(self.n_features, -1).copy()
        c0 = np.array(self.skip_intercept, dtype=float).reshape(-1).copy()
        norms = np.linalg.norm(W, axis=1)
        # Rows already of unit norm to rounding stay as they are, so that canonicalizing a
        # canonical network is the identity.
        norms[np.abs(norms - 1.0) <= 4 * _EPS] = 1.0
        live = np.any(v != 0, axis=1)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            bn = b / norms
            vn = v * norms[:, None]
        # Zero rows (b / 0) and rows whose kink lies beyond the float range are affine on
        # every representable x: max(w.x - b, 0) is w.x - b when b < 0, and 0 otherwise.
        affine = live & ~np.isfinite(bn)
        neg = affine & (b < 0)
        if neg.any():
            c += W[neg].T @ v[neg]
            c0 -= b[neg] @ v[neg]
        keep = live & ~affine
        if not np.all(np.isfinite(vn[keep])):
            raise ValueError("outer times the norms of weights overflows: the network's output "
                             "weights are not representable in canonical form.")
        W = W[keep] / norms[keep, None]
        b, v = bn[keep], vn[keep]
        # Half-sphere: first nonzero coordinate positive. v max(z, 0) = v max(-z, 0) + v z.
        if len(b):
            first = np.argmax(W != 0, axis=1)
            flip = W[np.arange(len(b)), first] < 0
            if flip.any():
                c += W[flip].T @ v[flip]
                c0 -= b[flip] @ v[flip]
                W[flip] *= -1
                b[flip] *= -1
        W, b, v, c, c0 = self._merge(W, b, v, c, c0, tol, bias_scale)
        self.weights, self.biases = W, b
        self.outer = v if T else v[:, 0]
        self.skip_coef = c if T else c[:, 0]
        self.skip_intercept = c0 if T else float(c0[0])
        self._is_canonical = True

    @staticmethod
    def _merge(W, b, v, c, c0, tol, bias_scale):
        """Merge neurons on one hyperplane (relative tolerance, either orientation)."""
        K = len(b)
        if K == 0:
            return W, b, v, c, c0
        ab = np.abs(b)
        floor = float(np.median(ab)) if bias_scale is None else bias_scale
        # Candidates come from a window of a sorted sign-invariant key, whichever is more
        # selective: |b| (a leader i's partners have |b_j| in [|b_i|, (|b_i| + tol floor) /
        # (1 - tol)], from the bias test) or |w.g| for a fixed unit g (within tol of |w_i.g|,
        # from the angle test); a hair wider for rounding.
        order = np.argsort(ab, kind="stable")
        sab = ab[order]
        ends = np.searchsorted(sab, (sab + tol * floor) / (1.0 - tol) * (1.0 + 4 * _EPS),
                               side="right")
        g = np.cos(2.399963 * np.arange(W.shape[1]) + 0.5)
        proj = np.abs(W @ (g / np.linalg.norm(g)))
        order2 = np.argsort(proj, kind="stable")
        sproj = proj[order2]
        ends2 = np.searchsorted(sproj, sproj + tol + 16 * W.shape[1] * _EPS, side="right")
        if np.sum(ends2 - np.arange(K)) < np.sum(ends - np.arange(K)):
            order, ends = order2, ends2
        leader = np.full(K, -1)
        for p in range(K):
            i = order[p]
            if leader[i] >= 0:
                continue
            leader[i] = i
            cand = order[p + 1:ends[p]]
            cand = cand[leader[cand] < 0]
            if not len(cand):
                continue
            s = np.where(W[cand] @ W[i] < 0, -1.0, 1.0)
            close = np.linalg.norm(W[cand] - s[:, None] * W[i], axis=1) <= tol
            scale = np.maximum(np.maximum(ab[cand], ab[i]), floor)
            close &= np.abs(b[cand] - s * b[i]) <= tol * scale
            leader[cand[close]] = i
        if np.all(leader == np.arange(K)):
            return W, b, v, c, c0
        # A member on the other orientation of its leader's hyperplane is flipped exactly
        # first (its affine difference moves into the skip connection), then output weights
        # add onto the leader.
        opp = np.einsum("ij,ij->i", W, W[leader]) < 0
        if opp.any():
            c = c + W[opp].T @ v[opp]
            c0 = c0 - b[opp] @ v[opp]
        heads, first, inverse = np.unique(leader, return_index=True, return_inverse=True)
        vs = np.zeros((len(heads), v.shape[1]))
        np.add.at(vs, inverse, v)
        count = np.bincount(inverse)
        mass = np.zeros(len(heads))
        np.add.at(mass, inverse, np.linalg.norm(v, axis=1))
        # Cancellation down to the rounding error of the sum is zero; an unmerged neuron
        # is dropped only when exactly zero (it cannot be, here).
        nz = np.linalg.norm(vs, axis=1) > np.where(count > 1, count * _EPS * mass, 0.0)
        # Keep the caller's order: a group sits where its first member was.
        pos = np.argsort(first[nz], kind="stable")
        heads, vs = heads[nz][pos], vs[nz][pos]
        return W[heads], b[heads], vs, c, c0

    _is_canonical = False

    def canonical(self, merge_tol=1e-10, bias_scale=None):
        """A canonical copy of this network (same function, RTV2 = sum of ``||outer_k||``).

        Parameters
        ----------
        merge_tol : float, default=1e-10
            Relative merge tolerance (see the class docstring).
        bias_scale : float or None, default=None
            Floor of the bias scale (see the class docstring).

        Returns
        -------
        net : ReLUNetwork

        Examples
        --------
        Two neurons on the same hyperplane merge, their output weights adding:

        >>> from radonsolve import ReLUNetwork
        >>> net = ReLUNetwork([[1.0], [2.0]], [0.5, 1.0], [1.0, 1.0], [0.0], 0.0,
        ...                   canonicalize=False)
        >>> net.n_neurons, net.canonical().n_neurons, net.canonical().outer
        (2, 1, array([3.]))
        """
        return ReLUNetwork(self.weights, self.biases, self.outer, self.skip_coef,
                           self.skip_intercept, canonicalize=True, merge_tol=merge_tol,
                           bias_scale=bias_scale)

    def balanced(self):
        """Weight-decay parameterization: input weights and output weights with equal norms.

        Returns ``(W, b, V)`` with ``f = max(X W^T - b, 0) V + skip`` and
        ``||W_k|| = ||V_k||`` for every neuron, the balanced point of the rescaling
        ``(v, w, b) -> (v/g, g w, g b)`` that weight decay selects. Then
        ``0.5 * (||V||^2 + ||W||^2) = sum_k ||V_k|| = rtv2``.

        Returns
        -------
        W : ndarray of shape (n_neurons, n_features)
            Input weights of the canonical network, row k scaled by ``sqrt(||outer_k||)``.
        b : ndarray of shape (n_neurons,)
            Biases, scaled like the rows of ``W``.
        V : ndarray of shape (n_neurons,) or (n_neurons, n_outputs)
            Output weights divided by the same factors.

        Examples
        --------
        >>> import numpy as np
        >>> from radonsolve import ReLUNetwork
        >>> net = ReLUNetwork([[2.0]], [1.0], [3.0], [0.0], 0.0)
        >>> W, b, V = net.balanced()
        >>> bool(np.isclose(0.5 * (np.sum(V ** 2) + np.sum(W ** 2)), net.rtv2))
        True
        """
        net = self if self._is_canonical else self.canonical()
        n = net._outer_norms()
        g = np.sqrt(n)
        W = net.weights * g[:, None]
        b = net.biases * g
        V = net.outer / (g[:, None] if net.outer.ndim == 2 else g)
        return W, b, V

    def to_arrays(self):
        """Plain dict of copies of the parameters (for saving with ``np.savez``).

        Returns
        -------
        dict of str to ndarray
            Keys ``"weights"``, ``"biases"``, ``"outer"``, ``"skip_coef"`` and
            ``"skip_intercept"``; :meth:`from_arrays` inverts it.

        Examples
        --------
        >>> from radonsolve import ReLUNetwork
        >>> net = ReLUNetwork([[2.0]], [1.0], [3.0], [0.0], 0.0)
        >>> sorted(net.to_arrays())
        ['biases', 'outer', 'skip_coef', 'skip_intercept', 'weights']
        >>> ReLUNetwork.from_arrays(net.to_arrays()).predict([[1.0]])
        array([3.])
        """
        return {
            "weights": self.weights.copy(),
            "biases": self.biases.copy(),
            "outer": self.outer.copy(),
            "skip_coef": np.array(self.skip_coef, copy=True),
            "skip_intercept": np.array(self.skip_intercept, copy=True),
        }

    @classmethod
    def from_arrays(cls, arrays, **kwargs):
        """Build a network from the dict written by :meth:`to_arrays`.

        Parameters
        ----------
        arrays : mapping
            Has the keys ``"weights"``, ``"biases"``, ``"outer"``, ``"skip_coef"`` and
            ``"skip_intercept"`` (e.g. a dict, or the ``NpzFile`` of ``np.load``).
        **kwargs
            Passed to the constructor (``canonicalize``, ``merge_tol``, ``bias_scale``).

        Returns
        -------
        ReLUNetwork
        """
        return cls(arrays["weights"], arrays["biases"], arrays["outer"],
                   arrays["skip_coef"], arrays["skip_intercept"], **kwargs)

    def to_torch(self, balanced=True, dtype=None):
        """Export as a ``torch.nn.Module`` (requires the ``torch`` extra).

        Parameters
        ----------
        balanced : bool, default=True
            Export the balanced form (see :meth:`balanced`), so that the module's weight
            decay penalty equals ``rtv2``; with False the stored parameters as they are.
        dtype : torch.dtype, default=torch.float64
            Floating-point type of the module's parameters.

        Returns
        -------
        torch.nn.Module
            A ``ShallowReLUNet`` whose output on ``torch.as_tensor(X)`` equals
            ``predict(X)``: shape (n,) for a single output, (n, n_outputs) otherwise.
        """
        from ._torch import network_to_torch
        return network_to_torch(self, balanced=balanced, dtype=dtype)

    def __repr__(self):
        return (f"ReLUNetwork(n_neurons={self.n_neurons}, n_features={self.n_features}, "
                f"n_outputs={self.n_outputs}, rtv2={self.rtv2:.6g})")
