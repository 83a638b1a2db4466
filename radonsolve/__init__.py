"""radonsolve: sparse shallow ReLU networks by convex optimization, with a certificate."""

from .classifier import RadonReLUClassifier, alpha_max_classification
from .estimator import RadonReLURegressor, alpha_max
from .model_selection import RadonReLUClassifierCV, RadonReLURegressorCV
from .network import ReLUNetwork
from .path import RadonPath, radon_path
from .persistence import load, save

__version__ = "0.1.0"

__all__ = ["RadonReLURegressor", "RadonReLUClassifier", "ReLUNetwork", "alpha_max",
           "alpha_max_classification", "radon_path", "RadonPath",
           "RadonReLURegressorCV", "RadonReLUClassifierCV", "save", "load", "__version__"]
