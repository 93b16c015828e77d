"""The Fashion world: small networks the project trains itself on Fashion-MNIST.

Why: no ImageNet-scale image set can be had here, and a quantitative comparison of visualisation
methods needs many real images per class. On Fashion-MNIST we own everything: a *subject* (the
VGG-style net we visualise), a *judge* of another architecture (a small ResNet, used only to
measure, never to optimise) and a generator ``G`` that inverts the subject's fc1 code into an image
(the prior of DGN-AM). Weights are committed in ``stochvis/weights``; ``scripts/train_fashion.py``
(``make weights``) retrains them deterministically on CPU with the functions below.

Convention: every model takes 1-channel (grey) images in [0, 1], shape (N, 1, 28, 28); the
wrapper normalises inside with the training set's mean and std.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from stochvis.data import FASHION_CLASSES
from stochvis.models import LOGITS, WrappedModel, default_device, wrap_model

WEIGHTS_DIR = Path(__file__).parent / "weights"
FASHION_MEAN = (0.2860,)  # training-set pixel mean, in [0, 1] units
FASHION_STD = (0.3530,)
INPUT_SIZE = (28, 28)


# ------------------------------------------------------------------------------------------
# Architectures
# ------------------------------------------------------------------------------------------

def _conv_bn_relu(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class FashionVGG(nn.Module):
    """Subject: three blocks of two 3×3 conv + BN + ReLU (then max-pool), and two fc layers.

    28 → 14 → 7 → 3; ``fc1`` (post-ReLU, ``code_dim`` units) is the penultimate code that the
    generator inverts.
    """

    def __init__(self, widths: tuple[int, int, int] = (32, 64, 128), code_dim: int = 256, classes: int = 10) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 1
        for width in widths:
            layers += _conv_bn_relu(cin, width) + _conv_bn_relu(width, width) + [nn.MaxPool2d(2)]
            cin = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(widths[-1] * 3 * 3, code_dim), nn.ReLU(), nn.Linear(code_dim, classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def subject_aliases(blocks: int = 3) -> dict[str, str]:
    """Caffe-style names as for VGG16: ``conv2_1`` is the rectified output, ``conv2_1_pre`` the
    batch-normalised convolution before its ReLU."""
    aliases: dict[str, str] = {}
    for block in range(blocks):
        start = 7 * block
        for conv in range(2):
            aliases[f"conv{block + 1}_{conv + 1}_pre"] = f"features.{start + 3 * conv + 1}"
            aliases[f"conv{block + 1}_{conv + 1}"] = f"features.{start + 3 * conv + 2}"
        aliases[f"pool{block + 1}"] = f"features.{start + 6}"
    aliases.update({"fc1_pre": "classifier.1", "fc1": "classifier.2", "fc2": "classifier.3", LOGITS: "classifier.3"})
    return aliases


class BasicBlock(nn.Module):
    """ResNet basic block; ``out`` (the final ReLU) is a module so the block output has a name."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
        self.out = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.out(y + self.shortcut(x))


class FashionResNet(nn.Module):
    """Judge: a small ResNet (stem, residual blocks with stride 2, global average pool, fc).

    A different architecture from the subject on purpose: features it shares with the subject are
    less likely to be the subject's own quirks. ``pool`` (average-pooled to 2×2, flattened) is its
    penultimate feature layer, the space where realism and diversity are measured.
    """

    def __init__(self, stem: int = 32, widths: tuple[int, ...] = (64, 128), classes: int = 10, pool: int = 2) -> None:
        super().__init__()
        self.stem = nn.Sequential(*_conv_bn_relu(1, stem))
        blocks, cin = [], stem
        for width in widths:
            blocks.append(BasicBlock(cin, width, stride=2))
            cin = width
        self.blocks = nn.Sequential(*blocks)
        # average pooling to pool×pool, not 1×1: where a part of a garment sits tells classes apart
        # (shirt vs pullover); with global pooling this net reached only 91.6% after 4 epochs
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(pool), nn.Flatten())
        self.fc = nn.Linear(cin * pool * pool, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.blocks(self.stem(x))))


def judge_aliases(blocks: int = 2) -> dict[str, str]:
    aliases = {"stem": "stem"}
    aliases.update({f"block{i + 1}": f"blocks.{i}" for i in range(blocks)})
    aliases.update({"pool": "pool", LOGITS: "fc"})
    return aliases


JUDGE_FEATURES = "pool"


class _CodeInverter(nn.Module):
    """What every Fashion generator carries besides its layers: per-unit statistics of the code it
    inverts (buffers ``code_mean``, ``code_std``, ``code_max``, flattened), for DGN-AM's box."""

    def _register_code_statistics(self, code_dim: int) -> None:
        for name in ("code_mean", "code_std", "code_max"):
            self.register_buffer(name, torch.zeros(code_dim))

    def code_bound(self, stds: float = 3.0) -> torch.Tensor:
        """Upper clip bound per code unit, mean + ``stds``·std (the lower bound is 0: the codes are post-ReLU)."""
        return self.code_mean + stds * self.code_std


class FashionGenerator(_CodeInverter):
    """G: subject fc1 code (N, code_dim) → image (N, 1, 28, 28) in [0, 1].

    fc → 7×7 → conv → (upsample, conv) ×2 → 28×28, sigmoid. The buffers ``code_mean``,
    ``code_std`` and ``code_max`` are per-unit statistics of the subject's fc1 code over the
    training set: DGN-AM clips each unit to [0, mean + 3·std] (``code_bound``).
    """

    def __init__(self, code_dim: int = 256, widths: tuple[int, int, int, int] = (32, 64, 32, 16)) -> None:
        super().__init__()
        self.code_dim = code_dim
        self.start = widths[0]
        self.fc = nn.Linear(code_dim, widths[0] * 7 * 7)
        self.body = nn.Sequential(
            nn.BatchNorm2d(widths[0]), nn.ReLU(),
            *_conv_bn_relu(widths[0], widths[1]),
            nn.Upsample(scale_factor=2, mode="nearest"), *_conv_bn_relu(widths[1], widths[2]),
            nn.Upsample(scale_factor=2, mode="nearest"), *_conv_bn_relu(widths[2], widths[3]),
            nn.Conv2d(widths[3], 1, 3, padding=1), nn.Sigmoid(),
        )
        self._register_code_statistics(code_dim)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        if codes.ndim != 2 or codes.shape[1] != self.code_dim:
            raise ValueError(f"codes must have shape (N, {self.code_dim}), got {tuple(codes.shape)}")
        return self.body(self.fc(codes).view(-1, self.start, 7, 7))


class FashionConvGenerator(_CodeInverter):
    """G for a *convolutional* code: a subject feature map (N, C, S, S) → image (N, 1, 28, 28).

    The DGN-AM paper's early-vs-late check needs a generator per code layer. A conv code keeps
    the spatial layout, so G is convolutional: conv → (upsample, conv) until 28×28 → a 3×3 conv
    to one channel, sigmoid. Accepts codes as (N, C, S, S) or flattened (N, C·S·S).
    Buffers ``code_mean``/``code_std``/``code_max`` hold per-unit statistics (flattened), so the
    DGN-AM box is per unit (channel × position), as for fc1.
    """

    def __init__(self, code_shape: tuple[int, int, int] = (32, 14, 14), widths: tuple[int, int, int] = (64, 32, 16)) -> None:
        super().__init__()
        channels, height, width = (int(v) for v in code_shape)
        if height != width or 28 % height or (28 // height) & (28 // height - 1):
            raise ValueError(f"code_shape must be (C, S, S) with 28 / S a power of two, got {tuple(code_shape)}")
        self.code_shape = (channels, height, width)
        self.code_dim = channels * height * width
        layers: list[nn.Module] = _conv_bn_relu(channels, widths[0])
        cin, size = widths[0], height
        for width_out in widths[1:]:
            if size < 28:
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
                size *= 2
            layers += _conv_bn_relu(cin, width_out)
            cin = width_out
        if size != 28:
            raise ValueError(f"{len(widths) - 1} upsamplings cannot take {height}×{height} to 28×28; give more widths")
        self.body = nn.Sequential(*layers, nn.Conv2d(cin, 1, 3, padding=1), nn.Sigmoid())
        self._register_code_statistics(self.code_dim)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        if codes.ndim == 2 and codes.shape[1] == self.code_dim:
            codes = codes.view(-1, *self.code_shape)
        if codes.ndim != 4 or tuple(codes.shape[1:]) != self.code_shape:
            raise ValueError(f"codes must have shape (N, {self.code_dim}) or (N, {', '.join(map(str, self.code_shape))}), "
                             f"got {tuple(codes.shape)}")
        return self.body(codes)


# ------------------------------------------------------------------------------------------
# Wrapping and loading
# ------------------------------------------------------------------------------------------

def wrap_subject(net: FashionVGG, device: torch.device | str | None = "cpu") -> WrappedModel:
    return wrap_model(net, mean=FASHION_MEAN, std=FASHION_STD, input_size=INPUT_SIZE, classes=FASHION_CLASSES,
                      name="fashion_subject", aliases=subject_aliases(), device=device, in_channels=1, resize_ratio=1.0,
                      description="VGG-style CNN trained on Fashion-MNIST (the subject)")


def wrap_judge(net: FashionResNet, device: torch.device | str | None = "cpu") -> WrappedModel:
    return wrap_model(net, mean=FASHION_MEAN, std=FASHION_STD, input_size=INPUT_SIZE, classes=FASHION_CLASSES,
                      name="fashion_judge", aliases=judge_aliases(len(net.blocks)), device=device, in_channels=1, resize_ratio=1.0,
                      description="small ResNet trained on Fashion-MNIST (the held-out judge)")


def weights_info(name: str) -> dict:
    """The JSON record committed next to a weight file: config, seed, epochs, minutes, accuracy, sha256."""
    path = WEIGHTS_DIR / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make weights` (scripts/train_fashion.py)")
    return json.loads(path.read_text())


def _load_state(name: str) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    path = WEIGHTS_DIR / f"{name}.safetensors"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make weights` (scripts/train_fashion.py)")
    return load_file(path)


def load_subject(device: torch.device | str | None = None) -> WrappedModel:
    """The committed subject, wrapped (1-channel input in [0, 1]); also ``load_model("fashion_subject")``."""
    config = weights_info("fashion_subject")["config"]
    net = FashionVGG(tuple(config["widths"]), config["code_dim"])
    net.load_state_dict(_load_state("fashion_subject"), strict=True)
    return wrap_subject(net, device or default_device())


def load_judge(device: torch.device | str | None = None) -> WrappedModel:
    """The committed judge, wrapped; also ``load_model("fashion_judge")``."""
    config = weights_info("fashion_judge")["config"]
    net = FashionResNet(config["stem"], tuple(config["widths"]), pool=config.get("pool", 1))
    net.load_state_dict(_load_state("fashion_judge"), strict=True)
    return wrap_judge(net, device or default_device())


GENERATORS = {
    "fashion_generator": "inverts the subject's fc1 code (256 units): the late-layer code",
    "fashion_generator_pool2": "inverts the subject's pool2 map (64×7×7): a middle-layer code",
    "fashion_generator_pool1": "inverts the subject's pool1 map (32×14×14): the early-layer code",
    "fashion_generator_looks": "inverts the subject's fc1 code, trained on normal, inverted and blurred images",
}


def load_generator(device: torch.device | str | None = None,
                   name: str = "fashion_generator") -> FashionGenerator | FashionConvGenerator:
    """A committed generator (eval mode, frozen), with its code statistics as buffers; ``name`` one
    of :data:`GENERATORS`. Its JSON says which subject layer it inverts (``training.code_layer``)."""
    if name not in GENERATORS:
        raise ValueError(f"unknown Fashion generator {name!r}; valid: {', '.join(GENERATORS)}")
    info = weights_info(name)
    config = info["config"]
    if info["model"] == "FashionConvGenerator":
        generator = FashionConvGenerator(tuple(config["code_shape"]), tuple(config["widths"]))
    else:
        generator = FashionGenerator(config["code_dim"], tuple(config["widths"]))
    generator.load_state_dict(_load_state(name), strict=True)
    generator.eval().requires_grad_(False)
    return generator.to(device or default_device())


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
    images = as_float(images)
    kind = torch.randint(0, len(MODIFICATIONS) + 1, (len(images),), generator=torch.Generator().manual_seed(seed))
    out = images.clone()
    for index, modification in enumerate(MODIFICATIONS, start=1):
        chosen = kind == index
        out[chosen] = modify(images[chosen], modification)
    return out, labels + len(FASHION_CLASSES) * kind


def accuracy_per_look(model: WrappedModel, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """30-class accuracy of the modified subject on ``images`` shown in each look (normal, inverted,
    blurred), each scored against its look's labels (class + 10 · look)."""
    images = as_float(images)
    result = {"normal": accuracy(model, images, labels)}
    for index, look in enumerate(MODIFICATIONS, start=1):
        result[look] = accuracy(model, modify(images, look), labels + len(FASHION_CLASSES) * index)
    return result


def class_templates(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean image of each Fashion class (10, 1, 28, 28) in the normal look: the yardstick of
    :func:`look_rows` (an inverted image correlates negatively with it)."""
    images = as_float(images)
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
    from stochvis.metrics import border_brightness, high_frequency_ratio, probabilities, template_correlation

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


# ------------------------------------------------------------------------------------------
# Training (deterministic on CPU)
# ------------------------------------------------------------------------------------------

def make_deterministic(seed: int, threads: int | None = None) -> None:
    """Seed everything and ask torch for deterministic kernels: same seed, same machine, same
    thread count → the same weights, bit for bit."""
    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def as_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 1, 28, 28) → float in [0, 1]."""
    return images.float().div_(255) if images.dtype == torch.uint8 else images.float()


def _batches(count: int, batch_size: int, generator: torch.Generator, max_steps: int | None):
    order = torch.randperm(count, generator=generator)
    steps = count // batch_size  # drop the ragged last batch: BN on a batch of 3 is noise
    if max_steps is not None:
        steps = min(steps, max_steps)
    for step in range(steps):
        yield order[step * batch_size:(step + 1) * batch_size]


@dataclass
class TrainConfig:
    epochs: int = 4
    batch_size: int = 128
    max_lr: float = 3e-3
    weight_decay: float = 5e-2
    flip: bool = True  # random horizontal flips (label-preserving for clothes)
    seed: int = 0
    max_steps: int | None = None  # per epoch; for tests


def train_classifier(
    model: WrappedModel,
    images: torch.Tensor,
    labels: torch.Tensor,
    config: TrainConfig,
    log: Callable[[str], None] | None = print,
) -> WrappedModel:
    """AdamW + one-cycle on (N, 1, 28, 28) images in [0, 1]; trains ``model.net`` in place.

    Training goes through the wrapper (parameters unfrozen for the run, frozen again after), so
    training sees the same normalisation as use does.
    """
    generator = torch.Generator().manual_seed(config.seed)
    steps_per_epoch = len(images) // config.batch_size
    if config.max_steps is not None:
        steps_per_epoch = min(steps_per_epoch, config.max_steps)
    model.train().requires_grad_(True)
    optimizer = torch.optim.AdamW(model.net.parameters(), lr=config.max_lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.max_lr, total_steps=config.epochs * steps_per_epoch)
    started = time.perf_counter()
    for epoch in range(config.epochs):
        total, correct, seen = 0.0, 0, 0
        for index in _batches(len(images), config.batch_size, generator, config.max_steps):
            x, y = images[index], labels[index]
            if config.flip:
                flip = torch.rand(len(x), generator=generator) < 0.5
                x = torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(y)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
        if log:
            log(f"  epoch {epoch + 1}/{config.epochs}: loss {total / seen:.4f}, train acc {correct / seen:.4f}, "
                f"{(time.perf_counter() - started) / 60:.1f} min")
    model.eval().requires_grad_(False)
    return model


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 500) -> float:
    """Top-1 accuracy of ``model`` (eval mode) on images in [0, 1] (or uint8)."""
    model.eval()
    correct = 0
    for start in range(0, len(images), batch_size):
        x = as_float(images[start:start + batch_size])
        correct += int((model(x).argmax(1) == labels[start:start + batch_size]).sum())
    return correct / len(images)


@torch.no_grad()
def code_statistics(subject: WrappedModel, images: torch.Tensor, layer: str = "fc1",
                    batch_size: int = 500) -> dict[str, torch.Tensor]:
    """Per-unit mean, std and max of ``layer`` over ``images`` (float64 sums: 60k images)."""
    from stochvis.layers import forward_to

    total = squares = None
    peak = None
    for start in range(0, len(images), batch_size):
        codes = forward_to(subject, as_float(images[start:start + batch_size]), layer).flatten(1).double()
        total = codes.sum(0) if total is None else total + codes.sum(0)
        squares = (codes ** 2).sum(0) if squares is None else squares + (codes ** 2).sum(0)
        peak = codes.max(0).values if peak is None else torch.maximum(peak, codes.max(0).values)
    mean = total / len(images)
    std = (squares / len(images) - mean ** 2).clamp_min(0).sqrt()
    return {"code_mean": mean.float(), "code_std": std.float(), "code_max": peak.float()}


@dataclass
class GeneratorConfig:
    epochs: int = 2
    batch_size: int = 128
    lr: float = 2e-3
    feature_layer: str = "conv3_2"
    feature_weight: float = 0.05  # on the feature MSE divided by the mean square of the real features
    code_layer: str = "fc1"
    seed: int = 0
    max_steps: int | None = None


def train_generator(
    generator: FashionGenerator,
    subject: WrappedModel,
    images: torch.Tensor,
    config: GeneratorConfig,
    log: Callable[[str], None] | None = print,
) -> FashionGenerator:
    """Dosovitskiy & Brox (2016) style inversion: G(code(x)) ≈ x in pixels and in the subject's
    conv features (the feature loss keeps edges the pixel loss blurs away). No adversarial term:
    on 2 CPU cores the time goes to more epochs instead."""
    from stochvis.layers import capture, forward_to

    subject.eval().requires_grad_(False)
    generator.train().requires_grad_(True)
    random = torch.Generator().manual_seed(config.seed)
    steps_per_epoch = len(images) // config.batch_size
    if config.max_steps is not None:
        steps_per_epoch = min(steps_per_epoch, config.max_steps)
    optimizer = torch.optim.Adam(generator.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.lr, total_steps=config.epochs * steps_per_epoch)
    started = time.perf_counter()
    for epoch in range(config.epochs):
        pixel_sum = feature_sum = 0.0
        steps = 0
        for index in _batches(len(images), config.batch_size, random, config.max_steps):
            x = images[index]
            with torch.no_grad():
                real = capture(subject, x, [config.feature_layer, config.code_layer])
            fake = generator(real[config.code_layer].flatten(1))
            pixel = F.mse_loss(fake, x)
            target = real[config.feature_layer]
            feature = F.mse_loss(forward_to(subject, fake, config.feature_layer), target) / target.pow(2).mean()
            loss = pixel + config.feature_weight * feature
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            pixel_sum += pixel.item()
            feature_sum += feature.item()
            steps += 1
        if log:
            log(f"  epoch {epoch + 1}/{config.epochs}: pixel mse {pixel_sum / steps:.4f}, "
                f"feature {feature_sum / steps:.4f}, {(time.perf_counter() - started) / 60:.1f} min")
    generator.eval().requires_grad_(False)
    return generator


@torch.no_grad()
def reconstruction_error(generator: FashionGenerator, subject: WrappedModel, images: torch.Tensor,
                         layer: str = "fc1", batch_size: int = 500) -> float:
    """Mean pixel MSE of G(code(x)) against x."""
    from stochvis.layers import forward_to

    total = 0.0
    for start in range(0, len(images), batch_size):
        x = as_float(images[start:start + batch_size])
        total += F.mse_loss(generator(forward_to(subject, x, layer).flatten(1)), x, reduction="sum").item()
    return total / (len(images) * math.prod(images.shape[1:]))
