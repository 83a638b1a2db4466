"""radonsolve: sparse shallow ReLU networks by convex optimization, with a certificate."""

from .classifier import RadonReLUClassifier, alpha_max_classification
from .estimator import RadonReLURegressor, alpha_max
from .network import ReLUNetwork

__version__ = "0.1.0"

__all__ = ["RadonReLURegressor", "RadonReLUClassifier", "ReLUNetwork", "alpha_max",
           "alpha_max_classification", "__version__"]
