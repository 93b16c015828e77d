"""The Fashion world: small networks the project trains itself on Fashion-MNIST.

Why: no ImageNet-scale image set can be had here, and a quantitative comparison of visualisation
methods needs many real images per class. On Fashion-MNIST we own everything: a *subject* (the
VGG-style net we visualise), a *judge* of another architecture (a small ResNet, used only to
measure, never to optimise), a second judge of yet another family (an MLP-Mixer, ``fashion_judge2``,
so that realism is never one judge's taste) and a generator ``G`` that inverts the subject's fc1 code into an image
(the prior of DGN-AM). Weights are committed in ``stochvis/weights``; ``scripts/train_fashion.py``
(``make weights``) retrains them deterministically on CPU with the functions below.

Convention: every model takes 1-channel (grey) images in [0, 1], shape (N, 1, 28, 28); the
wrapper normalises inside with the training set's mean and std.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from stochvis.data import FASHION_CLASSES
from stochvis.methods.generator_prior import GeneratorPrior
from stochvis.models import LOGITS, WrappedModel, default_device, wrap_model


def fashion_prior(clip_stds: float | None = 3.0, device: torch.device | str | None = None,
                  generator: str = "fashion_generator") -> GeneratorPrior:
    """A committed Fashion-MNIST generator as a prior, by name (``stochvis.worlds.fashion.GENERATORS``):
    ``fashion_generator`` inverts the subject's fc1 code (late), ``fashion_generator_pool2`` and
    ``fashion_generator_pool1`` its pool2 and pool1 maps, ``fashion_generator_looks`` fc1 again but
    trained on all three looks.

    ``clip_stds``: the box [0, mean + clip_stds·std] per code unit from the code statistics stored
    with G; None keeps only the ReLU floor at 0. Starting codes: N(mean, std²) of real codes, clipped.
    """

    net = load_generator(device or "cpu", generator)
    code_shape = getattr(net, "code_shape", (net.code_dim,))
    mean, std = net.code_mean.view(code_shape), net.code_std.view(code_shape)
    layer = weights_info(generator)["training"]["code_layer"]
    prior = GeneratorPrior(net, code_shape, channels=1, size=INPUT_SIZE, init_mean=mean, init_std=std,
                           output="unit", name=f"{generator}({layer})", box="relu")
    return prior.clipped(clip_stds).to(device or default_device())


WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"  # stochvis/weights: package data


FASHION_MEAN = (0.2860,)  # training-set pixel mean, in [0, 1] units


FASHION_STD = (0.3530,)


INPUT_SIZE = (28, 28)


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


class MixerBlock(nn.Module):
    """One MLP-Mixer block (Tolstikhin et al. 2021) on (N, tokens, dim): a token-mixing MLP shared
    across channels, then a channel-mixing MLP shared across tokens, each pre-LayerNorm and residual."""

    def __init__(self, tokens: int, dim: int, token_hidden: int, channel_hidden: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.token_mlp = _TokenMLP(tokens, token_hidden)
        self.norm2 = nn.LayerNorm(dim)
        self.channel_mlp = nn.Sequential(nn.Linear(dim, channel_hidden), nn.GELU(), nn.Linear(channel_hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.token_mlp(self.norm1(x))
        return x + self.channel_mlp(self.norm2(x))


class _TokenMLP(nn.Module):
    """The token-mixing MLP on (N, tokens, dim), mixing along tokens: ``fc2(gelu(fc1(xᵀ)))ᵀ``,
    computed as ``W @ x`` so no transposed copy is made (a fifth of a training step otherwise)."""

    def __init__(self, tokens: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(tokens, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, tokens)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.act(torch.matmul(self.fc1.weight, x) + self.fc1.bias[:, None])
        return torch.matmul(self.fc2.weight, hidden) + self.fc2.bias[:, None]


class _Tokens(nn.Module):
    """(N, dim, H, W) → (N, H·W, dim): patches in row-major order become tokens."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).transpose(1, 2)


class _TokenMean(nn.Module):
    """(N, tokens, dim) → (N, dim): the mean over tokens."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(1)


class FashionMixer(nn.Module):
    """Second judge: an MLP-Mixer (Tolstikhin et al. 2021) on 4×4 patches.

    Why this family. Realism must not be one judge's taste, so the second judge should share as
    little inductive bias as possible with both the subject (VGG-style: stacked 3×3 convolutions,
    BatchNorm, max-pooling) and the first judge (ResNet: 3×3 convolutions, BatchNorm, residual
    blocks, average pooling). A Mixer has no convolution beyond cutting the image into
    non-overlapping patches (``patchify``, a per-patch linear map written as a stride-4 conv),
    no BatchNorm (LayerNorm), no pooling hierarchy and no locality prior: after the patch
    embedding, every token-mixing MLP sees all 49 positions at once with learned, position-specific
    weights, and channel-mixing MLPs act per token. Its features are therefore built very
    differently from a CNN's. A small ViT would also be another family (not measured here: the
    Mixer is the simpler of the two, with no attention to tune); a MobileNet-style net would
    still be a convolutional hierarchy with BatchNorm, the family of both CNNs.

    Committed recipe (``scripts/train_fashion.py``, part ``judge2``): dim 64, depth 4, 160,782
    parameters, 5 epochs of the shared recipe → 88.9% test accuracy in 6.6 CPU minutes on one thread.

    28 → 7×7 = 49 tokens of ``dim`` channels → ``depth`` Mixer blocks → ``pool`` (LayerNorm,
    then the mean over tokens: ``dim`` units) → ``fc``. ``pool`` is the penultimate feature layer
    where realism and diversity are measured, as ``pool`` is for the ResNet judge.
    """

    def __init__(self, dim: int = 128, depth: int = 4, patch: int = 4, token_hidden: int = 64,
                 channel_hidden: int = 256, classes: int = 10) -> None:
        super().__init__()
        if 28 % patch:
            raise ValueError(f"patch must divide 28, got {patch}")
        tokens = (28 // patch) ** 2
        self.patchify = nn.Sequential(nn.Conv2d(1, dim, patch, stride=patch), _Tokens())
        self.blocks = nn.Sequential(*(MixerBlock(tokens, dim, token_hidden, channel_hidden) for _ in range(depth)))
        self.pool = nn.Sequential(nn.LayerNorm(dim), _TokenMean())
        self.fc = nn.Linear(dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.blocks(self.patchify(x))))


def mixer_aliases(depth: int = 4) -> dict[str, str]:
    """``patches`` (N, 49, dim) tokens, ``mixer1`` … ``mixerK`` block outputs (N, 49, dim), ``pool`` (N, dim).

    Token-major, unlike a CNN's (N, C, H, W) maps: axis 1 is the 7×7 patch position, axis 2 the
    channel. The judge is read at ``pool``; the inner layers are named for inspection only.
    """
    aliases = {"patches": "patchify"}
    aliases.update({f"mixer{i + 1}": f"blocks.{i}" for i in range(depth)})
    aliases.update({"pool": "pool", LOGITS: "fc"})
    return aliases


class _CodeInverter(nn.Module):
    """What every Fashion generator carries besides its layers: per-unit statistics of the code it
    inverts (buffers ``code_mean``, ``code_std``, ``code_max``, flattened), for DGN-AM's box."""

    def _register_code_statistics(self, code_dim: int) -> None:
        for name in ("code_mean", "code_std", "code_max"):
            self.register_buffer(name, torch.zeros(code_dim))


class FashionGenerator(_CodeInverter):
    """G: subject fc1 code (N, code_dim) → image (N, 1, 28, 28) in [0, 1].

    fc → 7×7 → conv → (upsample, conv) ×2 → 28×28, sigmoid. The buffers ``code_mean``,
    ``code_std`` and ``code_max`` are per-unit statistics of the subject's fc1 code over the
    training set: DGN-AM clips each unit to [0, mean + 3·std] (``generator_prior.code_box``).
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


def wrap_subject(net: FashionVGG, device: torch.device | str | None = "cpu") -> WrappedModel:
    return wrap_model(net, mean=FASHION_MEAN, std=FASHION_STD, input_size=INPUT_SIZE, classes=FASHION_CLASSES,
                      name="fashion_subject", aliases=subject_aliases(), device=device, in_channels=1, resize_ratio=1.0,
                      description="VGG-style CNN trained on Fashion-MNIST (the subject)")


def wrap_judge(net: FashionResNet, device: torch.device | str | None = "cpu") -> WrappedModel:
    return wrap_model(net, mean=FASHION_MEAN, std=FASHION_STD, input_size=INPUT_SIZE, classes=FASHION_CLASSES,
                      name="fashion_judge", aliases=judge_aliases(len(net.blocks)), device=device, in_channels=1, resize_ratio=1.0,
                      description="small ResNet trained on Fashion-MNIST (the held-out judge)")


def wrap_second_judge(net: FashionMixer, device: torch.device | str | None = "cpu") -> WrappedModel:
    return wrap_model(net, mean=FASHION_MEAN, std=FASHION_STD, input_size=INPUT_SIZE, classes=FASHION_CLASSES,
                      name="fashion_judge2", aliases=mixer_aliases(len(net.blocks)), device=device, in_channels=1,
                      resize_ratio=1.0, description="MLP-Mixer trained on Fashion-MNIST (the second held-out judge)")


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


def load_second_judge(device: torch.device | str | None = None) -> WrappedModel:
    """The committed second judge (an MLP-Mixer, :class:`FashionMixer`), wrapped like the first:
    1-channel input in [0, 1], ``pool`` its penultimate features; ``load_model("fashion_judge2")``."""
    config = weights_info("fashion_judge2")["config"]
    net = FashionMixer(config["dim"], config["depth"], config["patch"], config["token_hidden"], config["channel_hidden"])
    net.load_state_dict(_load_state("fashion_judge2"), strict=True)
    return wrap_second_judge(net, device or default_device())


JUDGES = {
    "fashion_judge": "small ResNet (BasicBlocks, BatchNorm); pool: 128 channels average-pooled to 2×2, 512 units",
    "fashion_judge2": "MLP-Mixer on 4×4 patches (no convolution hierarchy, LayerNorm); pool: mean over tokens",
}


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
