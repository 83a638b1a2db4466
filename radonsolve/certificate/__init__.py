"""The dual certificate over all directions (DESIGN §5-6).

Let ``q = sqrt(u) * rho`` be the weighted projected residual of a finite solution (shape (N,)
or (N, T) for T outputs). Because rho is projected, q is orthogonal to the constant and to
every feature, so the correlation of the atom (w, b),

    c(w, b) = sum_n q_n max(w.x_n - b, 0),

is unchanged by ``(w, b) -> (-w, -b)`` (the two atoms differ by an affine function) and
vanishes for b outside the data range. It is piecewise linear in b with kinks at the data
projections, so

    eta(w) = max_b ||c(w, b)|| / alpha

is attained at a data projection. The finite solution solves the infinite-dimensional
problem (P) iff ``eta(w) <= 1`` for every unit w, and ``theta = rho / max(1, sup_w eta)`` is
dual feasible for (P), so ``sup_w eta`` turns the finite duality gap into a gap for (P).

This package computes

- :func:`eta`: eta on given directions, exactly, O(N log N) per direction (``core``);
- :func:`exact_certificate_2d`: the exact supremum for d = 2 by branch-and-bound over angle
  intervals (:func:`eta_upper_bound_2d`) and a rotating sweep, over the angles where the
  sorted order of projections changes, of the intervals the bound cannot discard, in O(N)
  memory;
- :func:`search_certificate`: a searched (not proven) supremum for any d, from many candidate
  directions followed by local ascent with exact line searches along great circles;
- :func:`duality_gap_for_P`: the duality gap of (P) given ``sup eta``;
- :func:`bound_certificate`: a proven upper bound on the supremum for d >= 3 by
  branch-and-bound over cells of directions (``bound``), and :func:`certifiable_eta`, the
  largest supremum whose gap of (P) is within a tolerance.

Layout: ``core`` (:class:`Certificate`, :func:`eta`, :func:`duality_gap_for_P`), ``sweep2d``
(the exact 2-D sweep, :class:`SweepEvents`), ``search`` (the d >= 3 search) and ``_common``
(validation and the exact evaluation of eta shared by the three).
"""

from .bound import BoundResult, bound_certificate, certifiable_eta, eta_cap_bound
from .core import Certificate, duality_gap_for_P, eta
from .search import search_certificate
from .sweep2d import SweepEvents, eta_upper_bound_2d, exact_certificate_2d

__all__ = [
    "Certificate",
    "eta",
    "exact_certificate_2d",
    "eta_upper_bound_2d",
    "SweepEvents",
    "search_certificate",
    "duality_gap_for_P",
    "bound_certificate",
    "certifiable_eta",
    "eta_cap_bound",
    "BoundResult",
]
