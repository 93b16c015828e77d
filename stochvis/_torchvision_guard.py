"""Make ``import torchvision`` work on a CPU-only torch with a CUDA torchvision build.

The torchvision wheel that matches torch 2.13.0 here is a CUDA build: on CPU torch its ``_C``
extension cannot load, and torchvision's fake-tensor registrations then die with
``operator torchvision::nms does not exist``. Declaring the two op schemas ourselves is enough
for models and transforms (``ops.nms`` and ``io.decode_jpeg`` stay unavailable; we use PIL).
This is the only place in the project that knows about it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_library = None  # keeps the fragment alive for the life of the process
guard_installed = False


def _native_ops_load(package_dir: Path) -> bool:
    import torch

    for candidate in sorted(package_dir.glob("_C*.so")) + sorted(package_dir.glob("_C*.pyd")):
        try:
            torch.ops.load_library(str(candidate))
            return True
        except (OSError, RuntimeError):
            return False
    return False


def install() -> bool:
    """Declare torchvision's op schemas if (and only if) its own extension cannot load.

    Returns True when the guard had to step in.
    """
    global _library, guard_installed
    if guard_installed or "torchvision" in sys.modules:
        return guard_installed
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return False
    if _native_ops_load(Path(next(iter(spec.submodule_search_locations)))):
        return False
    import torch

    _library = torch.library.Library("torchvision", "FRAGMENT")
    for schema in _SCHEMAS:
        _library.define(schema)
    guard_installed = True
    return True
