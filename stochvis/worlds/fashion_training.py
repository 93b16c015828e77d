"""fashion_training (split from fashion)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from stochvis.inputs import as_float_images
from stochvis.models import WrappedModel
from stochvis.worlds.fashion import FashionGenerator


def make_deterministic(seed: int, threads: int | None = None) -> None:
    """Seed everything and ask torch for deterministic kernels: same seed, same machine, same
    thread count → the same weights, bit for bit."""
    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def _steps_per_epoch(count: int, batch_size: int, max_steps: int | None) -> int:
    steps = count // batch_size  # drop the ragged last batch: BN on a batch of 3 is noise
    return steps if max_steps is None else min(steps, max_steps)


def _batches(count: int, batch_size: int, generator: torch.Generator, max_steps: int | None):
    order = torch.randperm(count, generator=generator)
    for step in range(_steps_per_epoch(count, batch_size, max_steps)):
        yield order[step * batch_size:(step + 1) * batch_size]


def _one_cycle(optimizer: torch.optim.Optimizer, max_lr: float, count: int,
               config: TrainConfig | GeneratorConfig) -> torch.optim.lr_scheduler.OneCycleLR:
    """One-cycle over every step the run will take (``config``: epochs, batch_size, max_steps)."""
    steps = config.epochs * _steps_per_epoch(count, config.batch_size, config.max_steps)
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr, total_steps=steps)


def _step(optimizer: torch.optim.Optimizer, schedule: torch.optim.lr_scheduler.LRScheduler, loss: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    schedule.step()


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
    model.train().requires_grad_(True)
    optimizer = torch.optim.AdamW(model.net.parameters(), lr=config.max_lr, weight_decay=config.weight_decay)
    schedule = _one_cycle(optimizer, config.max_lr, len(images), config)
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
            _step(optimizer, schedule, loss)
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
        x = as_float_images(images[start:start + batch_size])
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
        codes = forward_to(subject, as_float_images(images[start:start + batch_size]), layer).flatten(1).double()
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
    optimizer = torch.optim.Adam(generator.parameters(), lr=config.lr)
    schedule = _one_cycle(optimizer, config.lr, len(images), config)
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
            _step(optimizer, schedule, loss)
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
        x = as_float_images(images[start:start + batch_size])
        total += F.mse_loss(generator(forward_to(subject, x, layer).flatten(1)), x, reduction="sum").item()
    return total / (len(images) * math.prod(images.shape[1:]))
