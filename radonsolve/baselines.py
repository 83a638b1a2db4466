"""Baseline: train a shallow ReLU network with weight decay by gradient descent (PyTorch).

DESIGN §1: minimizing

    0.5 * sum_n u_n (y_n - f(x_n))^2 + (alpha / 2) * (||V||^2 + ||W||^2)

over the parameters of ``f = relu(X W^T - b) V + skip`` (only the input weights W and the
output weights V decayed) has the same minimizers, as functions, as problem (P)

    0.5 * sum_n u_n (y_n - f(x_n))^2 + alpha * RTV2(f)

with the same alpha, because ``RTV2(f) <= path norm <= 0.5 * (||V||^2 + ||W||^2)`` with
equality at balanced, merged neurons. Gradient training is not guaranteed to reach that
minimum; this module measures how close it gets, in (P)'s own terms, as a function of time,
which is what the convex solvers are compared against.

torch is an optional dependency and is imported inside the functions.
"""

import math
import numbers
import os
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .network import ReLUNetwork

__all__ = [
    "WeightDecayResult",
    "train_weight_decay",
    "train_adam_then_lbfgs",
    "best_of_weight_decay",
    "penalized_objective",
]

_LOSSES = ("squared", "logistic")
_OPTIMIZERS = ("adam", "sgd", "lbfgs")
_SCHEDULES = ("constant", "cosine")
HISTORY_FIELDS = ("time", "epoch", "loss", "objective")


# ---------------------------------------------------------------------------- validation
def _check_data(X, y, sample_weight, loss):
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}.")
    y = np.asarray(y, dtype=float)
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D; got shape {y.shape}.")
    N = X.shape[0]
    if N == 0:
        raise ValueError("X has no samples.")
    if y.shape[0] != N:
        raise ValueError(f"X has {N} samples but y has {y.shape[0]}.")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite (no NaN or inf).")
    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {_LOSSES}; got {loss!r}.")
    if loss == "logistic":
        if y.ndim != 1:
            raise ValueError("loss='logistic' needs 1-D labels y in {0, 1}.")
        if not np.all((y == 0) | (y == 1)):
            raise ValueError("loss='logistic' needs labels y in {0, 1}.")
    if sample_weight is None:
        u = np.full(N, 1.0 / N)
    else:
        w = np.asarray(sample_weight, dtype=float)
        if w.shape != (N,):
            raise ValueError(f"sample_weight must have shape ({N},); got {w.shape}.")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("sample_weight must be finite and nonnegative.")
        s = w.sum()
        if s <= 0:
            raise ValueError("sample_weight must have a positive sum.")
        u = w / s
    return X, y, u


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_pos(value):
    """A positive (possibly infinite) real number, not a bool."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and not math.isnan(value) and value > 0)


def _check_alpha(alpha):
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a nonnegative number; got {alpha!r}.") from None
    if not math.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite nonnegative number; got {alpha}.")
    return alpha


def _data_fit(pred, y, u, loss):
    if loss == "logistic":
        # Binary cross-entropy from logits: log(1 + e^f) - y f, stable through logaddexp.
        return float(u @ (np.logaddexp(0.0, pred) - y * pred))
    r = y - pred
    if r.ndim == 2:
        return 0.5 * float(u @ np.einsum("nt,nt->n", r, r))
    return 0.5 * float(u @ (r * r))


def penalized_objective(network, X, y, alpha, sample_weight=None, loss="squared"):
    """Objective of problem (P) at a fixed network.

    ``0.5 * sum_n u_n (y_n - f(x_n))^2 + alpha * RTV2(f)`` with ``u = w / sum(w)`` (for
    ``loss="logistic"`` the data term is ``sum_n u_n (log(1 + exp f_n) - y_n f_n)``). RTV2 is
    computed exactly from the canonical form of ``network``.

    Parameters
    ----------
    network : ReLUNetwork
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    alpha : float
    sample_weight : array-like of shape (n_samples,), default=None
    loss : {"squared", "logistic"}, default="squared"

    Returns
    -------
    objective : float

    Examples
    --------
    >>> from radonsolve import ReLUNetwork
    >>> from radonsolve.baselines import penalized_objective
    >>> net = ReLUNetwork([[1.0]], [0.0], [2.0], [0.0], 0.0)
    >>> round(penalized_objective(net, [[-1.0], [1.0]], [0.0, 1.0], alpha=0.1), 12)
    0.45
    """
    alpha = _check_alpha(alpha)
    X, y, u = _check_data(X, y, sample_weight, loss)
    if X.shape[1] != network.n_features:
        raise ValueError(f"X has {X.shape[1]} features; the network expects {network.n_features}.")
    pred = network.predict(X)
    if pred.shape != y.shape:
        raise ValueError(f"y has shape {y.shape} but the network predicts shape {pred.shape}.")
    return _data_fit(pred, y, u, loss) + alpha * network.rtv2


# ---------------------------------------------------------------------------- result
@dataclass
class WeightDecayResult:
    """Outcome of :func:`train_weight_decay`.

    Attributes
    ----------
    network : ReLUNetwork
        The final network, in canonical form.
    objective : float
        (P)'s objective of the final network (exact RTV2, float64).
    best_objective : float
        Smallest (P) objective over the history.
    best_network : ReLUNetwork
        A network attaining ``best_objective``.
    history : ndarray of shape (n_evaluations, 4)
        Columns ``(time, epoch, loss, objective)``: training seconds elapsed (evaluation time
        excluded), epochs done, full-data training loss (data fit plus weight-decay penalty) and
        (P) objective. The first row is the initialization.
    time : float
        Training seconds (evaluations excluded).
    wall_time : float
        Total seconds including evaluations.
    n_epochs : int
        Epochs actually run (fewer than requested if ``time_budget`` stopped the run or the loss
        diverged).
    module : torch.nn.Module
        The trained ``ShallowReLUNet``.
    params : dict
        The settings of the run (width, lr, seed, optimizer, ...).
    """

    network: ReLUNetwork
    objective: float
    best_objective: float
    best_network: ReLUNetwork
    history: np.ndarray
    time: float
    wall_time: float
    n_epochs: int
    module: object = None
    params: dict = field(default_factory=dict)

    @property
    def loss(self):
        """Final full-data training loss (fit plus weight-decay penalty)."""
        return float(self.history[-1, 2])

    def time_to(self, objective_threshold):
        """First training time at which the recorded (P) objective was <= the threshold.

        Returns ``inf`` if the history never reached it. Resolution is the evaluation
        interval (``eval_every`` epochs or ``eval_every_seconds``).

        Parameters
        ----------
        objective_threshold : float
            Target value of the (P) objective.

        Returns
        -------
        float
            Training seconds (evaluations excluded), the first column of ``history``.
        """
        hit = np.flatnonzero(self.history[:, 3] <= objective_threshold)
        return float(self.history[hit[0], 0]) if hit.size else math.inf

    def time_to_final(self, rtol=1e-4):
        """First training time at which the running best of the recorded (P) objective was
        within ``rtol`` (relative) of ``best_objective``, the run's final running best.

        Parameters
        ----------
        rtol : float, default=1e-4
            Relative tolerance on ``best_objective``.

        Returns
        -------
        float
            Training seconds, as in :meth:`time_to`.
        """
        return self.time_to(self.best_objective + rtol * abs(self.best_objective))

    def __repr__(self):
        return (f"WeightDecayResult(objective={self.objective:.6g}, "
                f"best_objective={self.best_objective:.6g}, n_epochs={self.n_epochs}, "
                f"time={self.time:.3g}s, n_neurons={self.network.n_neurons})")


# ---------------------------------------------------------------------------- training
def _affine_init(X, y, u, loss):
    """Skip connection starting point: the weighted least-squares affine fit (squared loss),
    or the constant log-odds of the weighted label mean (logistic)."""
    N, d = X.shape
    if loss == "logistic":
        p = float(np.clip(u @ y, 1e-6, 1 - 1e-6))
        return np.zeros(d), math.log(p / (1 - p))
    A = np.column_stack([np.ones(N), X]) * np.sqrt(u)[:, None]
    Y = y * (np.sqrt(u)[:, None] if y.ndim == 2 else np.sqrt(u))
    coef = np.linalg.lstsq(A, Y, rcond=None)[0]
    return coef[1:], coef[0]


def _random_neurons(X, k, T, rng):
    """k fresh neurons: Gaussian input weights (norm about 1), each hyperplane through a
    random data point so that every neuron starts active on part of the data, and output
    weights of PyTorch's default scale 1/sqrt(k)."""
    N, d = X.shape
    W = rng.standard_normal((k, d)) / math.sqrt(d)
    b = np.einsum("kd,kd->k", W, X[rng.integers(0, N, size=k)])
    bound = 1.0 / math.sqrt(max(k, 1))
    V = rng.uniform(-bound, bound, size=(k, T or 1))
    return W, b, V


def _build_module(X, y, u, loss, width, init, rng):
    import copy

    import torch

    from ._torch import make_shallow_relu_net, network_to_torch

    N, d = X.shape
    T = y.shape[1] if y.ndim == 2 else None
    if init is not None and not isinstance(init, ReLUNetwork):
        # A torch module (ShallowReLUNet or compatible): continue from a float64 copy.
        if not hasattr(init, "hidden") or not hasattr(init, "output") or not hasattr(init, "skip"):
            raise ValueError("init must be None, a ReLUNetwork or a ShallowReLUNet module.")
        module = copy.deepcopy(init).to(torch.float64)
        if module.hidden.in_features != d or module.output.out_features != (T or 1):
            raise ValueError("init module does not match the shapes of X and y.")
        return module
    if init is not None:
        if init.n_features != d or init.n_outputs != T:
            raise ValueError(
                f"init network has {init.n_features} features and n_outputs={init.n_outputs}; "
                f"the data have {d} features and n_outputs={T}.")
        src = network_to_torch(init, balanced=True)
        K0 = src.width
    else:
        src, K0 = None, 0
    K = max(int(width), K0)
    module = make_shallow_relu_net(d, K, n_outputs=T, dtype=torch.float64)
    W, b, V = _random_neurons(X, K - K0, T, rng)
    if src is not None:
        # Warm start: the given neurons (balanced), then fresh neurons with zero output
        # weight so that the starting function is exactly the init network.
        V[:] = 0.0
        c_t, c0_t = src.skip.weight.detach(), src.skip.bias.detach()
    else:
        c, c0 = _affine_init(X, y, u, loss)
        c_t = torch.as_tensor(np.asarray(c, dtype=float).reshape(d, T or 1).T)
        c0_t = torch.as_tensor(np.asarray(c0, dtype=float).reshape(T or 1))
    with torch.no_grad():
        Wt = torch.as_tensor(W)
        bt = torch.as_tensor(-b)
        Vt = torch.as_tensor(V.T)
        if src is not None:
            Wt = torch.cat([src.hidden.weight.detach(), Wt])
            bt = torch.cat([src.hidden.bias.detach(), bt])
            Vt = torch.cat([src.output.weight.detach(), Vt], dim=1)
        module.hidden.weight.copy_(Wt)
        module.hidden.bias.copy_(bt)
        module.output.weight.copy_(Vt)
        module.skip.weight.copy_(c_t)
        module.skip.bias.copy_(c0_t)
    return module


def _make_optimizer(optimizer, params, lr):
    import torch

    if callable(optimizer):
        return optimizer(params)
    if optimizer == "adam":
        # The penalty is in the loss, not in Adam's weight_decay (decoupled AdamW would be a
        # different objective; L2-in-gradient is the same, but explicit is clearer).
        return torch.optim.Adam(params, lr=lr)
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if optimizer == "lbfgs":
        return torch.optim.LBFGS(params, lr=lr, max_iter=1, max_eval=25, history_size=20,
                                 line_search_fn="strong_wolfe")
    raise ValueError(f"optimizer must be one of {_OPTIMIZERS} or a callable; got {optimizer!r}.")


def train_weight_decay(X, y, alpha, *, width=64, lr=1e-2, n_epochs=2000, optimizer="adam",
                       batch_size=None, sample_weight=None, loss="squared", random_state=None,
                       init=None, eval_every=None, eval_every_seconds=None, time_budget=None,
                       lr_schedule="constant", n_threads=1, verbose=0):
    """Train a shallow ReLU network with weight decay and track (P)'s objective over time.

    Minimizes ``data fit + (alpha / 2) * (||V||^2 + ||W||^2)`` (input weights W and output
    weights V decayed; hidden biases and the skip connection not) in float64 with PyTorch. By
    DESIGN §1 its minimizers are those of (P) with the same alpha; along the way the (P)
    objective of the current function, with its exact RTV2, is recorded.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        A 1-D array is read as a single feature.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets; with several outputs the penalty is the group norm ``sum_k ||v_k||``.
    alpha : float
        Regularization strength (>= 0), the same alpha as (P).
    width : int, default=64
        Hidden neurons (with ``init`` a ReLUNetwork: at least its neuron count).
    lr : float, default=1e-2
        Learning rate.
    n_epochs : int, default=2000
        Passes over the data (one optimizer step per epoch in full batch).
    optimizer : {"adam", "sgd", "lbfgs"} or callable, default="adam"
        "sgd" uses momentum 0.9; "lbfgs" does one iteration with a strong Wolfe line search
        per epoch (full batch only). A callable receives the parameters and returns a
        ``torch.optim.Optimizer``.
    batch_size : int or None, default=None
        Mini-batch size; None is full batch. A batch's data term is renormalized by its weight.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights w; the data term uses ``u = w / sum(w)``.
    loss : {"squared", "logistic"}, default="squared"
        "logistic": labels in {0, 1}, data term ``sum_n u_n (log(1 + exp f_n) - y_n f_n)``.
    random_state : int, numpy Generator or None
        Seeds the initialization and the batch order (torch's global RNG is not used).
    init : ReLUNetwork, ShallowReLUNet or None, default=None
        Warm start. A ReLUNetwork enters balanced, plus ``width - n_neurons`` fresh neurons
        with zero output weight. None: random neurons whose hyperplanes pass through random data
        points, output weights ~ U(-1/sqrt(width), 1/sqrt(width)), skip connection at the
        (weighted) least-squares affine fit.
    eval_every : int or None, default=None
        Epochs between evaluations of (P)'s objective; None gives about 100 evaluations.
    eval_every_seconds : float or None, default=None
        Also evaluate as soon as this many training seconds have passed since the previous
        evaluation (useful with ``time_budget``, when the number of epochs is not known).
    time_budget : float or None, default=None
        Stop after this many training seconds (evaluation time not counted).
    lr_schedule : {"constant", "cosine"}, default="constant"
        "cosine" multiplies the learning rate by ``0.5 * (1 + cos(pi * progress))`` after
        every epoch, with ``progress`` the larger of ``epoch / n_epochs`` and (with a time
        budget) ``training seconds / time_budget``.
    n_threads : int or None, default=1
        torch intra-op threads during the run (restored afterwards). One thread is the fastest
        for the small dense problems this baseline is meant for; None keeps torch's setting.
    verbose : int, default=0
        Print the history rows as they are recorded.

    Returns
    -------
    result : WeightDecayResult
    """
    import torch

    from ._torch import network_from_torch

    alpha = _check_alpha(alpha)
    X, y, u = _check_data(X, y, sample_weight, loss)
    N, d = X.shape
    if not _is_int(width) or width < 0:
        raise ValueError(f"width must be a nonnegative integer; got {width!r}.")
    if not _is_int(n_epochs) or n_epochs < 0:
        raise ValueError(f"n_epochs must be a nonnegative integer; got {n_epochs!r}.")
    n_epochs = int(n_epochs)
    try:
        lr_ok = not isinstance(lr, bool) and math.isfinite(float(lr)) and float(lr) > 0
    except (TypeError, ValueError):
        lr_ok = False
    if not lr_ok:
        raise ValueError(f"lr must be a positive number; got {lr!r}.")
    lr = float(lr)
    if batch_size is not None and (not _is_int(batch_size) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer or None; got {batch_size!r}.")
    full_batch = batch_size is None or batch_size >= N
    if not callable(optimizer) and optimizer not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {_OPTIMIZERS} or a callable; "
                         f"got {optimizer!r}.")
    if optimizer == "lbfgs" and not full_batch:
        raise ValueError("optimizer='lbfgs' needs full batch (batch_size=None).")
    if eval_every is None:
        eval_every = max(1, n_epochs // 100)
    elif not _is_int(eval_every) or eval_every < 1:
        raise ValueError(f"eval_every must be a positive integer; got {eval_every!r}.")
    eval_every = int(eval_every)
    if eval_every_seconds is not None and not _is_pos(eval_every_seconds):
        raise ValueError("eval_every_seconds must be positive or None; "
                         f"got {eval_every_seconds!r}.")
    if time_budget is not None and not _is_pos(time_budget):
        raise ValueError(f"time_budget must be positive or None; got {time_budget!r}.")
    if not isinstance(lr_schedule, str) or lr_schedule not in _SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {_SCHEDULES}; got {lr_schedule!r}.")
    if n_threads is not None and (not _is_int(n_threads) or n_threads < 1):
        raise ValueError(f"n_threads must be a positive integer or None; got {n_threads!r}.")

    rng = np.random.default_rng(random_state)
    old_threads = torch.get_num_threads()
    if n_threads is not None:
        torch.set_num_threads(max(1, min(int(n_threads), os.cpu_count() or 1)))
    try:
        module = _build_module(X, y, u, loss, width, init, rng)
        Xt = torch.as_tensor(X)
        yt = torch.as_tensor(y)
        ut = torch.as_tensor(u)
        params = list(module.parameters())
        opt = _make_optimizer(optimizer, params, lr)

        def training_loss(Xb, yb, ub):
            f = module(Xb)
            if loss == "logistic":
                fit = (ub * (torch.nn.functional.softplus(f) - yb * f)).sum()
            else:
                r2 = (yb - f) ** 2
                fit = 0.5 * (ub * (r2.sum(dim=1) if r2.dim() == 2 else r2)).sum()
            if not full_batch:
                fit = fit / ub.sum()
            return fit + alpha * module.weight_decay_penalty()

        base_lrs = [group["lr"] for group in opt.param_groups]
        history = []
        best = [math.inf, None]
        last_eval = [0.0]

        def evaluate(elapsed, epoch):
            with torch.no_grad():
                f = module(Xt).numpy()
                pen = float(module.weight_decay_penalty())
            # A diverging run overflows here; it is detected and reported by the caller.
            with np.errstate(over="ignore", invalid="ignore"):
                train = _data_fit(f, y, u, loss) + alpha * pen
                net = network_from_torch(module)
                obj = _data_fit(net.predict(X), y, u, loss) + alpha * net.rtv2
            if not math.isfinite(obj):
                obj = math.inf
            history.append((elapsed, epoch, train, obj))
            last_eval[0] = elapsed
            if obj < best[0] or best[1] is None:
                best[0], best[1] = obj, net
            if verbose:
                print(f"[weight decay] epoch {epoch:6d}  t={elapsed:8.3f}s  loss={train:.8g}  "
                      f"P objective={obj:.8g}")
            return net, train

        t_wall = time.perf_counter()
        elapsed = 0.0
        net, _ = evaluate(0.0, 0)
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        epoch = 0
        for epoch in range(1, n_epochs + 1):
            t0 = time.perf_counter()
            if full_batch:
                if optimizer == "lbfgs":
                    def closure():
                        opt.zero_grad()
                        val = training_loss(Xt, yt, ut)
                        val.backward()
                        return val
                    opt.step(closure)
                else:
                    opt.zero_grad()
                    training_loss(Xt, yt, ut).backward()
                    opt.step()
            else:
                perm = torch.randperm(N, generator=gen)
                for start in range(0, N, batch_size):
                    idx = perm[start:start + batch_size]
                    opt.zero_grad()
                    training_loss(Xt[idx], yt[idx], ut[idx]).backward()
                    opt.step()
            if lr_schedule == "cosine":
                progress = epoch / n_epochs
                if time_budget is not None:
                    progress = max(progress, (elapsed + time.perf_counter() - t0) / time_budget)
                scale = 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
                for group, lr0 in zip(opt.param_groups, base_lrs):
                    group["lr"] = lr0 * scale
            elapsed += time.perf_counter() - t0
            out_of_time = time_budget is not None and elapsed >= time_budget
            due = (epoch % eval_every == 0 or epoch == n_epochs or out_of_time
                   or (eval_every_seconds is not None
                       and elapsed - last_eval[0] >= eval_every_seconds))
            if due:
                net, train = evaluate(elapsed, epoch)
                if not math.isfinite(train):
                    warnings.warn(f"weight-decay training diverged at epoch {epoch} "
                                  f"(lr={lr}); stopping.", RuntimeWarning, stacklevel=2)
                    break
            if out_of_time:
                break
        wall = time.perf_counter() - t_wall
    finally:
        if n_threads is not None:
            torch.set_num_threads(old_threads)

    hist = np.array(history, dtype=float).reshape(-1, 4)
    run_params = dict(width=module.width, lr=lr, n_epochs=n_epochs, optimizer=optimizer,
                      batch_size=batch_size, loss=loss, random_state=random_state,
                      alpha=alpha, lr_schedule=lr_schedule, time_budget=time_budget)
    return WeightDecayResult(
        network=net,
        objective=float(hist[-1, 3]),
        best_objective=float(best[0]),
        best_network=best[1],
        history=hist,
        time=float(elapsed),
        wall_time=float(wall),
        n_epochs=int(epoch),
        module=module,
        params=run_params,
    )


def train_adam_then_lbfgs(X, y, alpha, *, width=64, lr=1e-2, adam_epochs=1000,
                          lbfgs_epochs=1000, adam_time=None, lbfgs_time=None, lbfgs_lr=1.0,
                          random_state=None, eval_every_seconds=None, sample_weight=None,
                          loss="squared", n_threads=1, verbose=0):
    """Weight-decay training in two phases: full-batch Adam, then L-BFGS from where Adam ended.

    Adam finds a good basin quickly but stalls near a minimum; L-BFGS (strong Wolfe line
    search, one iteration per epoch) then converges fast from that point. The second phase
    starts from Adam's trained module itself (``init=`` of :func:`train_weight_decay`), so it
    continues the same parameters, hence the same function and the same training loss.

    Parameters
    ----------
    X, y, alpha, width, random_state, sample_weight, loss, n_threads, verbose :
        As in :func:`train_weight_decay` (``random_state`` seeds the initialization).
    lr : float, default=1e-2
        Adam's learning rate.
    adam_epochs, lbfgs_epochs : int, default=1000
        Epochs (full-batch steps) of each phase, at most; 0 skips the phase.
    adam_time, lbfgs_time : float or None, default=None
        Training seconds of each phase, at most (evaluations not counted); None: no limit.
    lbfgs_lr : float, default=1.0
        L-BFGS's step scale (1 is its natural step; the line search adjusts it).
    eval_every_seconds : float or None, default=None
        As in :func:`train_weight_decay`, for both phases. None: about 100 evaluations per
        phase, or one every 1/100 of a phase's time limit where it has one.

    Returns
    -------
    result : WeightDecayResult
        ``history`` runs through both phases (training seconds continue from Adam's into
        L-BFGS's; L-BFGS's first row, the function Adam ended with, is kept), ``time`` and
        ``n_epochs`` are the sums over the phases, ``network`` is the final one and
        ``best_network`` the best over both phases. ``params`` holds each phase's settings
        (``"adam"``, ``"lbfgs"``) and ``"phase_start"``, the history row where L-BFGS begins.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.baselines import train_adam_then_lbfgs
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, (60, 2))
    >>> y = np.abs(X[:, 0]) - X[:, 1]
    >>> res = train_adam_then_lbfgs(X, y, 1e-3, width=16, adam_epochs=50, lbfgs_epochs=20,
    ...                             random_state=0)
    >>> res.n_epochs, bool(res.best_objective <= res.history[res.params["phase_start"], 3])
    (70, True)
    """
    for name, value in (("adam_epochs", adam_epochs), ("lbfgs_epochs", lbfgs_epochs)):
        if not _is_int(value) or value < 0:
            raise ValueError(f"{name} must be a nonnegative integer; got {value!r}.")
    for name, value in (("adam_time", adam_time), ("lbfgs_time", lbfgs_time)):
        if value is not None and not _is_pos(value):
            raise ValueError(f"{name} must be positive or None; got {value!r}.")
    if not _is_pos(lbfgs_lr) or math.isinf(lbfgs_lr):
        raise ValueError(f"lbfgs_lr must be a positive number; got {lbfgs_lr!r}.")

    def phase(optimizer, phase_lr, n_epochs, time_budget, init, seed):
        every = eval_every_seconds
        if every is None and time_budget is not None:
            every = time_budget / 100
        # With a time limit the epoch count is not known in advance: evaluate on the clock.
        eval_every = 10**9 if every is not None and time_budget is not None else None
        return train_weight_decay(
            X, y, alpha, width=width, lr=phase_lr, n_epochs=int(n_epochs),
            optimizer=optimizer, sample_weight=sample_weight, loss=loss,
            random_state=seed, init=init, eval_every=eval_every, eval_every_seconds=every,
            time_budget=time_budget, n_threads=n_threads, verbose=verbose)

    adam = phase("adam", lr, adam_epochs, adam_time, None, random_state)
    # Adam's module enters as it is (not re-balanced, no neurons added): the same function.
    lbfgs = phase("lbfgs", lbfgs_lr, lbfgs_epochs, lbfgs_time, adam.module, random_state)
    second = lbfgs.history.copy()
    second[:, 0] += adam.time
    second[:, 1] += adam.n_epochs
    history = np.vstack([adam.history, second])
    if lbfgs.best_objective < adam.best_objective:
        best_objective, best_network = lbfgs.best_objective, lbfgs.best_network
    else:
        best_objective, best_network = adam.best_objective, adam.best_network
    return WeightDecayResult(
        network=lbfgs.network,
        objective=lbfgs.objective,
        best_objective=float(best_objective),
        best_network=best_network,
        history=history,
        time=float(adam.time + lbfgs.time),
        wall_time=float(adam.wall_time + lbfgs.wall_time),
        n_epochs=int(adam.n_epochs + lbfgs.n_epochs),
        module=lbfgs.module,
        params=dict(width=lbfgs.module.width, lr=float(lr), random_state=random_state,
                    alpha=lbfgs.params["alpha"], optimizer="adam+lbfgs",
                    adam=adam.params, lbfgs=lbfgs.params,
                    phase_start=int(adam.history.shape[0])),
    )


def best_of_weight_decay(X, y, alpha, widths=(32, 64, 128), seeds=(0, 1, 2), lrs=(1e-3, 1e-2),
                         **kwargs):
    """Run :func:`train_weight_decay` over a grid and keep the best (P) objective.

    The comparison the convex solvers face: the best a practitioner gets from weight-decay
    training over a small hyperparameter sweep, at the same alpha.

    Parameters
    ----------
    X, y, alpha :
        As in :func:`train_weight_decay`.
    widths, seeds, lrs : sequences
        The grid (full product).
    **kwargs
        Passed to every run (n_epochs, optimizer, sample_weight, time_budget, ...).

    Returns
    -------
    best : WeightDecayResult
        The run with the smallest ``best_objective`` (its ``best_network`` attains it).
    results : list of WeightDecayResult
        All runs, in grid order; ``result.params`` says which settings each used.
    """
    if "width" in kwargs or "lr" in kwargs or "random_state" in kwargs:
        raise ValueError("pass width, lr and random_state through widths, lrs and seeds.")
    if len(widths) == 0 or len(seeds) == 0 or len(lrs) == 0:
        raise ValueError("widths, seeds and lrs must be nonempty.")
    results = []
    for width in widths:
        for lr in lrs:
            for seed in seeds:
                results.append(train_weight_decay(X, y, alpha, width=width, lr=lr,
                                                  random_state=seed, **kwargs))
    best = min(results, key=lambda r: r.best_objective)
    return best, results
