"""faces (split from generator)."""

from __future__ import annotations

import torch
from torch import nn

from stochvis import assets
from stochvis.methods.generator_prior import GeneratorPrior
from stochvis.models import default_device


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
    prior = GeneratorPrior(load_dcgan("cpu"), (100,), channels=3, size=(64, 64), init_mean=0.0, init_std=1.0,
                           output="tanh", name="dcgan_faces", box="symmetric")
    return prior.clipped(clip).to(device or default_device())
