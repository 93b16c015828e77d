"""A statistical shape model of a class's silhouettes: outlines drawn from how the class's objects are shaped.

Why: per-channel distributions say what an image is made of, not where things are, and a Gaussian of a deep map
fitted to objects at random positions draws a blend of positions, not one object's outline. An outline is what a
person names first, and it is the shallowest statistic of a class there is: its objects' masks. The classic model
(Leventon, Grimson & Faugeras 2000, "Statistical shape influence in geodesic active contours"): the signed
distance functions of aligned silhouettes, their principal components, a Gaussian over the coefficients; the zero
level set of a draw is a new outline of the class, not a copy of one (a blend of several, bent along the ways the
class's shapes differ).

Alignment here is the least that makes shapes comparable: each mask is cropped to its bounding box and centred
in a square (so size and position do not count), and mirrored where that brings it closer to the class's mean
shape (so a bird facing left and one facing right are one shape). Placement back on a canvas draws a position, a
size and a mirroring: where and how large the world puts its objects, which the caller says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from sklearn.decomposition import PCA

RESOLUTION = 32  # the canonical square's side: outlines, not fur
MARGIN = 0.1  # empty border around the shape in the canonical square, of its side: a drawn outline may bulge


def canonical(mask: np.ndarray | torch.Tensor, resolution: int = RESOLUTION, threshold: float = 0.5,
              margin: float = MARGIN) -> torch.Tensor:
    """A mask (H, W; 1 on the object) cropped to its bounding box, centred in a square of the box's longer side
    plus ``margin`` of it on every side, resized to ``resolution``²: the shape without its size or position.
    (R, R) float in [0, 1]. Why the margin: a drawn shape bends past the fitted ones' boxes, and the square's
    edge would cut it straight."""
    mask = torch.as_tensor(np.asarray(mask, dtype=np.float32))
    if mask.ndim != 2:
        raise ValueError(f"a mask is (height, width), got shape {tuple(mask.shape)}")
    inside = torch.nonzero(mask >= threshold)
    if len(inside) == 0:
        raise ValueError(f"the mask has no pixel ≥ {threshold}: no object to take the shape of")
    (top, left), (bottom, right) = inside.min(0).values.tolist(), (inside.max(0).values + 1).tolist()
    box = mask[top:bottom, left:right]
    side = round(max(box.shape) * (1 + 2 * margin))
    square = box.new_zeros(side, side)
    y, x = (side - box.shape[0]) // 2, (side - box.shape[1]) // 2
    square[y:y + box.shape[0], x:x + box.shape[1]] = box
    return F.interpolate(square[None, None], size=(resolution, resolution), mode="area")[0, 0]


def signed_distance(mask: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Distance to the outline in pixels, negative inside the object: a shape as a smooth function, whose
    averages and principal components are shapes again (averages of masks are grey ghosts)."""
    inside = (mask >= threshold).numpy()
    return torch.from_numpy(ndimage.distance_transform_edt(~inside) - ndimage.distance_transform_edt(inside)).float()


def _iou(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a & b).sum() / (a | b).sum().clamp(min=1))


def align_mirrors(masks: torch.Tensor, rounds: int = 3) -> torch.Tensor:
    """The masks (N, R, R), each mirrored left-right where that overlaps the mean shape more (a few rounds of
    mean and choice): one facing for the whole class."""
    masks = masks.clone()
    for _ in range(rounds):
        mean = masks.mean(0) >= 0.5
        flips = [_iou(m.flip(-1) >= 0.5, mean) > _iou(m >= 0.5, mean) for m in masks]
        if not any(flips):
            break
        for i, flip in enumerate(flips):
            if flip:
                masks[i] = masks[i].flip(-1)
    return masks


@dataclass
class SilhouetteModel:
    """A Gaussian over the principal components of a class's aligned signed distance functions."""

    mean: torch.Tensor  # (R, R)
    components: torch.Tensor  # (K, R, R), orthonormal
    scales: torch.Tensor  # (K,) standard deviation along each
    codes: torch.Tensor  # (N, K) each fitted shape's coefficients: the kernels of a kernel density
    source: str = ""

    @classmethod
    def fit(cls, masks: Sequence[np.ndarray | torch.Tensor], components: int | None = None, *,
            resolution: int = RESOLUTION, source: str = "") -> SilhouetteModel:
        """The model of ``masks`` (each (H, W), 1 on the object, any size). ``components``: how many ways of
        varying to keep (default all N − 1 the masks span)."""
        if len(masks) < 2:
            raise ValueError(f"a shape model needs at least 2 masks to know how shapes vary, got {len(masks)}")
        aligned = align_mirrors(torch.stack([canonical(m, resolution) for m in masks]))
        distances = torch.stack([signed_distance(m) for m in aligned]).flatten(1).double().numpy()
        most = len(masks) - 1
        if components is not None and not 1 <= components <= most:
            raise ValueError(f"components must be from 1 to {most} (the masks less one), got {components}")
        pca = PCA(n_components=components or most).fit(distances)
        shape = (resolution, resolution)
        return cls(torch.from_numpy(pca.mean_).float().reshape(shape),
                   torch.from_numpy(pca.components_).float().reshape(-1, *shape),
                   torch.from_numpy(np.sqrt(pca.explained_variance_)).float(),
                   torch.from_numpy(pca.transform(distances)).float(), source)

    def silverman_bandwidth(self) -> float:
        """Silverman's rule of thumb for a Gaussian kernel density, (4 / (N (d + 2)))^(1 / (d + 4)) of the spread:
        a kernel width from the number of shapes and dimensions alone, chosen without looking at a draw."""
        n, d = self.codes.shape
        return (4 / (n * (d + 2))) ** (1 / (d + 4))

    def draw(self, n: int, seed: int = 0, temperature: float = 1.0, bandwidth: float | str | None = None) -> torch.Tensor:
        """``n`` signed distance functions (n, R, R) drawn from the model: new outlines of the class.

        ``bandwidth`` None: from the Gaussian (``temperature`` × its spread) — with a few dozen shapes of many
        poses, a blob of the class's proportions. A number: from the kernel density of the fitted shapes, each
        kernel the Gaussian's spread × ``bandwidth`` — one fitted outline, bent along the ways the class's
        shapes vary: a pose the class has, not a copy of it. ``"silverman"``: :meth:`silverman_bandwidth`."""
        if bandwidth == "silverman":
            bandwidth = self.silverman_bandwidth()
        if n < 1 or temperature < 0 or (bandwidth is not None and bandwidth < 0):
            raise ValueError(f"n must be ≥ 1, temperature and bandwidth ≥ 0; got n={n}, temperature={temperature}, "
                             f"bandwidth={bandwidth}")
        generator = torch.Generator().manual_seed(seed)
        z = torch.randn(n, len(self.scales), generator=generator)
        if bandwidth is None:
            codes = z * self.scales * temperature
        else:
            kernels = torch.randint(0, len(self.codes), (n,), generator=generator)
            codes = self.codes[kernels] + z * self.scales * bandwidth
        return self.mean + torch.einsum("nk,khw->nhw", codes, self.components)


def _geometric_mean_side(distance: torch.Tensor) -> float:
    """The geometric mean of the sides of a shape's box (inside: distance < 0), over its square's side."""
    inside = distance < 0
    if not inside.any():
        raise ValueError("a drawn shape is empty (its distance function is positive everywhere)")
    rows, cols = inside.any(1).nonzero(), inside.any(0).nonzero()
    height, width = int(rows.max() - rows.min()) + 1, int(cols.max() - cols.min()) + 1
    return (height * width) ** 0.5 / distance.shape[-1]


def place(distances: torch.Tensor, size: int, *, extent: tuple[float, float] = (0.6, 0.95), seed: int = 0,
          softness: float = 1.0, scale: tuple[float, float] | None = None) -> torch.Tensor:
    """Soft masks (N, 1, size, size) in [0, 1] of drawn shapes placed on a canvas: each canonical square (the
    shape and its margin) at a side drawn uniformly from ``extent`` × ``size``, at a uniform position where it
    fits, mirrored half the time. ``scale`` instead sizes each *shape*: the geometric mean of its box's sides
    drawn uniformly from ``scale`` × ``size`` (the square capped to the canvas), as a world that pastes cut-outs
    by their geometric mean sizes them — so a long, thin shape is as large as a compact one of the same area,
    where a square's extent would make it smaller.
    The distance function is resized, not the mask, so the edge is ``softness`` canvas pixels wide at any
    size."""
    low, high = extent if scale is None else scale
    if not 0 < low <= high <= 1:
        name = "extent" if scale is None else "scale"
        raise ValueError(f"{name} must satisfy 0 < low ≤ high ≤ 1 (of the canvas side), got {(low, high)}")
    generator = torch.Generator().manual_seed(seed)
    out = []
    for distance in distances:
        fraction = low + (high - low) * float(torch.rand((), generator=generator))
        side = max(2, round(size * fraction)) if scale is None else \
            max(2, min(size, round(size * fraction / _geometric_mean_side(distance))))
        scaled = F.interpolate(distance[None, None], size=(side, side), mode="bilinear", align_corners=False)
        scaled = scaled * side / distance.shape[-1]  # distances in canvas pixels
        if float(torch.rand((), generator=generator)) < 0.5:
            scaled = scaled.flip(-1)
        canvas = scaled.new_full((1, 1, size, size), float(scaled.max()))  # far outside the object
        y, x = (int(torch.randint(0, size - side + 1, (), generator=generator)) for _ in range(2))
        canvas[..., y:y + side, x:x + side] = scaled
        out.append(torch.sigmoid(-canvas / softness))
    return torch.cat(out)
