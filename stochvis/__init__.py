"""stochvis: see what a convolutional network has learned, and make those pictures realistic."""

from stochvis import _torchvision_guard

_torchvision_guard.install()

__version__ = "0.1.0"
