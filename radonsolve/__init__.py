"""radonsolve: sparse shallow ReLU networks by convex optimization, with a certificate."""

from .estimator import RadonReLURegressor, alpha_max
from .network import ReLUNetwork

__version__ = "0.1.0"

__all__ = ["RadonReLURegressor", "ReLUNetwork", "alpha_max", "__version__"]
