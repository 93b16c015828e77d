"""fashion_looks (split from fashion)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from stochvis.data import FASHION_CLASSES
from stochvis.inputs import as_float_images
from stochvis.models import WrappedModel, default_device, wrap_model
from stochvis.worlds.fashion import (
    FASHION_MEAN,
    FASHION_STD,
    INPUT_SIZE,
    FashionVGG,
    _load_state,
    subject_aliases,
    weights_info,
)
from stochvis.worlds.fashion_training import accuracy

# The "is it the prior or the network" check (Nguyen et al. 2016): a second subject trained on
# normal images *and* modified copies as extra classes. If DGN-AM through G (trained on normal
# images only) can draw the modified look when asked for a modified class, the pictures show what
# the network learned, not only what G can draw.
MODIFICATIONS = ("inverted", "blurred")


BLUR_SIGMA = 1.5  # px, on 28×28: strokes and seams gone, silhouettes kept


MODIFIED_CLASSES = FASHION_CLASSES + [f"{name} ({mod})" for mod in MODIFICATIONS for name in FASHION_CLASSES]


def modify(images: torch.Tensor, modification: str) -> torch.Tensor:
    """The look of the modified classes: ``inverted`` (1 − x: white background, dark garment) or
    ``blurred`` (Gaussian, σ = :data:`BLUR_SIGMA` px); images (N, 1, H, W) in [0, 1]."""
    from torchvision.transforms.v2.functional import gaussian_blur

    if modification == "inverted":
        return 1 - images
    if modification == "blurred":
        return gaussian_blur(images, kernel_size=[7, 7], sigma=[BLUR_SIGMA, BLUR_SIGMA])
    raise ValueError(f"unknown modification {modification!r}; valid: {', '.join(MODIFICATIONS)}")


def modified_dataset(images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Each image kept, inverted or blurred (a third each, seeded); label + 10 · (kind index)."""
    images = as_float_images(images)
    kind = torch.randint(0, len(MODIFICATIONS) + 1, (len(images),), generator=torch.Generator().manual_seed(seed))
    out = images.clone()
    for index, modification in enumerate(MODIFICATIONS, start=1):
        chosen = kind == index
        out[chosen] = modify(images[chosen], modification)
    return out, labels + len(FASHION_CLASSES) * kind


def accuracy_per_look(model: WrappedModel, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """30-class accuracy of the modified subject on ``images`` shown in each look (normal, inverted,
    blurred), each scored against its look's labels (class + 10 · look)."""
    images = as_float_images(images)
    result = {"normal": accuracy(model, images, labels)}
    for index, look in enumerate(MODIFICATIONS, start=1):
        result[look] = accuracy(model, modify(images, look), labels + len(FASHION_CLASSES) * index)
    return result


def class_templates(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean image of each Fashion class (10, 1, 28, 28) in the normal look: the yardstick of
    :func:`look_rows` (an inverted image correlates negatively with it)."""
    images = as_float_images(images)
    return torch.stack([images[labels == c].mean(0) for c in range(len(FASHION_CLASSES))])


@torch.no_grad()
def look_rows(method: str, images: torch.Tensor, targets: Sequence[int], model: WrappedModel,
              templates: torch.Tensor) -> list[dict]:
    """Per look (normal, inverted, blurred) asked for: did the image get that look?

    ``targets`` are classes of the 30-class modified subject ``model`` (class + 10 · look). Columns:
    ``confidence`` (model's softmax for the target), ``look_recognised`` (share whose top class has
    the asked look: the network's view), and the network-free measures ``template_corr`` (Pearson
    with the class's normal mean image: + normal, − inverted), ``border`` (frame brightness) and
    ``hf_ratio`` (high-frequency power share: low when blurred).
    """
    from stochvis.evaluation.metrics import (
        border_brightness,
        high_frequency_ratio,
        probabilities,
        template_correlation,
    )

    targets = torch.as_tensor(list(targets))
    if len(targets) != len(images):
        raise ValueError(f"{len(images)} images but {len(targets)} targets")
    if targets.min() < 0 or targets.max() >= len(MODIFIED_CLASSES):
        raise ValueError(f"targets must be classes of the modified subject, 0 … {len(MODIFIED_CLASSES) - 1}")
    probs = probabilities(model, images).cpu()
    images = images.cpu()
    correlation = template_correlation(images, templates.cpu()[targets % len(FASHION_CLASSES)])
    looks = targets // len(FASHION_CLASSES)
    rows = []
    for index, look in enumerate(("normal", *MODIFICATIONS)):
        chosen = looks == index
        if not chosen.any():
            continue
        rows.append({
            "method": method, "look": look, "n": int(chosen.sum()),
            "confidence": float(probs[chosen, targets[chosen]].mean()),
            "look_recognised": float((probs[chosen].argmax(1) // len(FASHION_CLASSES) == index).float().mean()),
            "template_corr": float(correlation[chosen].mean()),
            "border": float(border_brightness(images[chosen]).mean()),
            "hf_ratio": float(high_frequency_ratio(images[chosen]).mean()),
        })
    return rows


def wrap_modified_subject(net: FashionVGG, device: torch.device | str | None = "cpu") -> WrappedModel:
    return wrap_model(net, mean=FASHION_MEAN, std=FASHION_STD, input_size=INPUT_SIZE, classes=MODIFIED_CLASSES,
                      name="fashion_subject_modified", aliases=subject_aliases(), device=device, in_channels=1,
                      resize_ratio=1.0, description="the subject's architecture trained on 30 classes: "
                      "10 Fashion classes, their inverted and their blurred copies")


def load_modified_subject(device: torch.device | str | None = None) -> WrappedModel:
    """The 30-class subject of the prior-or-network check; also ``load_model("fashion_subject_modified")``."""
    config = weights_info("fashion_subject_modified")["config"]
    net = FashionVGG(tuple(config["widths"]), config["code_dim"], classes=len(MODIFIED_CLASSES))
    net.load_state_dict(_load_state("fashion_subject_modified"), strict=True)
    return wrap_modified_subject(net, device or default_device())
