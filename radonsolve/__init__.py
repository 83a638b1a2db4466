"""radonsolve: sparse shallow ReLU networks by convex optimization, with a certificate."""

from .network import ReLUNetwork

__version__ = "0.1.0"

__all__ = ["ReLUNetwork", "__version__"]
