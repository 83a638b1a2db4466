"""PyTorch export of :class:`~radonsolve.network.ReLUNetwork` (optional ``torch`` extra).

The module mirrors the network's formula,

    f(x) = output(relu(hidden(x))) + skip(x),

with ``hidden.weight = W``, ``hidden.bias = -b`` (PyTorch adds the bias, the network subtracts
it), ``output.weight = V^T`` and ``skip`` the unpenalized affine connection. Weight decay on
``hidden.weight`` and ``output.weight`` only is the RTV2 penalty of DESIGN §1; the export
therefore defaults to the balanced parameterization (``||W_k|| = ||V_k||``), where
``0.5 * (||V||^2 + ||W||^2)`` equals the network's RTV2.

torch is imported lazily: ``import radonsolve`` must work without it.
"""

import warnings

import numpy as np

__all__ = ["ShallowReLUNet", "network_to_torch", "network_from_torch", "make_shallow_relu_net"]


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "PyTorch is required for this feature; install it with "
            "`pip install radonsolve[torch]` or `pip install torch`."
        ) from exc
    return torch


_MODULE_CLASS = None


def _module_class():
    """Build the ``ShallowReLUNet`` class on first use (it must subclass ``torch.nn.Module``)."""
    global _MODULE_CLASS
    if _MODULE_CLASS is not None:
        return _MODULE_CLASS
    torch = _torch()
    nn = torch.nn

    class ShallowReLUNet(nn.Module):
        """Shallow ReLU network with an affine skip connection, as a ``torch.nn.Module``.

        ``forward(X) = relu(X @ hidden.weight.T + hidden.bias) @ output.weight.T + skip(X)``.

        Parameters
        ----------
        n_features : int
        width : int
            Number of hidden neurons (may be 0).
        n_outputs : int or None, default=None
            None for a single output: ``forward`` then returns shape (n,); otherwise (n, T).
        dtype : torch.dtype, default=torch.float64

        Attributes
        ----------
        hidden : torch.nn.Linear(n_features, width)
            Input weights (directions times scale) and minus the biases.
        output : torch.nn.Linear(width, n_outputs or 1, bias=False)
            Output weights.
        skip : torch.nn.Linear(n_features, n_outputs or 1)
            Unpenalized affine skip connection.
        """

        def __init__(self, n_features, width, n_outputs=None, dtype=None):
            super().__init__()
            dtype = torch.float64 if dtype is None else dtype
            T = 1 if n_outputs is None else int(n_outputs)
            self.n_outputs = None if n_outputs is None else T
            with warnings.catch_warnings():
                # A width-0 network (the affine fit) is legitimate; torch warns that
                # initializing its empty tensors is a no-op.
                warnings.simplefilter("ignore", UserWarning)
                self.hidden = nn.Linear(n_features, width, dtype=dtype)
                self.output = nn.Linear(width, T, bias=False, dtype=dtype)
            self.skip = nn.Linear(n_features, T, dtype=dtype)

        @property
        def n_features(self):
            return self.hidden.in_features

        @property
        def width(self):
            return self.hidden.out_features

        def forward(self, X):
            out = self.output(torch.relu(self.hidden(X))) + self.skip(X)
            return out[:, 0] if self.n_outputs is None else out

        def path_norm(self):
            """``sum_k ||W_k|| * ||V_k||`` (differentiable): the penalty after optimal rescaling.

            It upper-bounds the RTV2 of the function (equal once neurons are merged into
            canonical form) and is at most :meth:`weight_decay_penalty`.
            """
            w = torch.linalg.vector_norm(self.hidden.weight, dim=1)
            v = torch.linalg.vector_norm(self.output.weight, dim=0)
            return (w * v).sum()

        def weight_decay_penalty(self):
            """``0.5 * (||V||^2 + ||W||^2)`` on the output and input weights only."""
            return 0.5 * (self.output.weight.pow(2).sum() + self.hidden.weight.pow(2).sum())

        def to_network(self, **kwargs):
            """The :class:`~radonsolve.network.ReLUNetwork` computing the same function."""
            return network_from_torch(self, **kwargs)

    _MODULE_CLASS = ShallowReLUNet
    return ShallowReLUNet


def make_shallow_relu_net(n_features, width, n_outputs=None, dtype=None):
    """Construct a (PyTorch-initialized) ``ShallowReLUNet``; see :func:`network_to_torch`.

    Parameters
    ----------
    n_features : int
    width : int
        Number of hidden neurons (may be 0).
    n_outputs : int or None, default=None
        None for a single output (the module then returns shape (n,)).
    dtype : torch.dtype, default=torch.float64

    Returns
    -------
    ShallowReLUNet
        A ``torch.nn.Module`` with PyTorch's default initialization.
    """
    return _module_class()(n_features, width, n_outputs=n_outputs, dtype=dtype)


def __getattr__(name):
    # ``from radonsolve._torch import ShallowReLUNet`` works, but only imports torch then.
    if name == "ShallowReLUNet":
        return _module_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def network_to_torch(net, balanced=True, dtype=None):
    """Export a :class:`~radonsolve.network.ReLUNetwork` as a ``ShallowReLUNet`` module.

    Parameters
    ----------
    net : ReLUNetwork
    balanced : bool, default=True
        Use the canonical network in balanced form (``||W_k|| = ||V_k||``, see
        ``ReLUNetwork.balanced``), so that the module's ``weight_decay_penalty()`` equals its
        ``path_norm()`` and ``net.rtv2``: weight decay starts at its balanced point. With False
        the stored parameters are copied as they are (unit directions if canonical).
    dtype : torch.dtype, default=torch.float64

    Returns
    -------
    module : ShallowReLUNet
        ``module(torch.as_tensor(X))`` equals ``net.predict(X)``: shape (n,) for a single
        output, (n, T) otherwise.
    """
    torch = _torch()
    dtype = torch.float64 if dtype is None else dtype
    if balanced:
        # balanced() uses the canonical form, whose skip connection may differ from a
        # non-canonical net's (flipped neurons move affine parts into the skip).
        src = net.canonical() if not getattr(net, "_is_canonical", False) else net
        W, b, V = src.balanced()
    else:
        src = net
        W, b, V = src.weights, src.biases, src.outer
    T = src.n_outputs
    K, d = np.shape(W)[0], src.n_features
    module = make_shallow_relu_net(d, K, n_outputs=T, dtype=dtype)
    V2 = np.asarray(V, dtype=float).reshape(K, T or 1)
    c = np.asarray(src.skip_coef, dtype=float).reshape(d, T or 1)
    c0 = np.asarray(src.skip_intercept, dtype=float).reshape(T or 1)
    with torch.no_grad():
        module.hidden.weight.copy_(torch.as_tensor(np.asarray(W, dtype=float).reshape(K, d)))
        module.hidden.bias.copy_(torch.as_tensor(-np.asarray(b, dtype=float).reshape(K)))
        module.output.weight.copy_(torch.as_tensor(V2.T))
        module.skip.weight.copy_(torch.as_tensor(c.T))
        module.skip.bias.copy_(torch.as_tensor(c0))
    return module


def network_from_torch(module, **kwargs):
    """Read a ``ShallowReLUNet`` (or a module with the same three ``Linear`` layers) back.

    Parameters
    ----------
    module : ShallowReLUNet
        Needs ``hidden`` (Linear with bias), ``output`` (Linear, no bias) and ``skip``
        (Linear with bias). A module without ``n_outputs`` whose output layer has one row is
        read as a single-output network.
    **kwargs
        Passed to :class:`~radonsolve.network.ReLUNetwork` (``canonicalize``, ``merge_tol``,
        ``bias_scale``).

    Returns
    -------
    net : ReLUNetwork
        The same function, computed in float64.
    """
    from .network import ReLUNetwork

    def arr(t):
        return t.detach().to("cpu").double().numpy().copy()

    W = arr(module.hidden.weight)
    b = -arr(module.hidden.bias)
    V = arr(module.output.weight).T              # (K, T)
    c = arr(module.skip.weight).T                # (d, T)
    c0 = arr(module.skip.bias)                   # (T,)
    if module.output.bias is not None:
        c0 = c0 + arr(module.output.bias)
    T = getattr(module, "n_outputs", None if V.shape[1] == 1 else V.shape[1])
    # Zero input rows (constants max(-b, 0)) need no care here: ReLUNetwork moves them into
    # the intercept when canonicalizing and evaluates them as they are otherwise.
    if T is None:
        V, c, c0 = V[:, 0], c[:, 0], float(c0[0])
    return ReLUNetwork(W, b, V, c, c0, **kwargs)
