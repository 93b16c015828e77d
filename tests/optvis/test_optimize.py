"""The optimisation loop: it works, it is reproducible, it fails loudly."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from stochvis.models import wrap_model
from stochvis.optvis import objectives as O
from stochvis.optvis import params as P
from stochvis.optvis import presets
from stochvis.optvis import regularizers as R
from stochvis.optvis.optimize import NonFiniteError, Octaves, optimize


def test_am_raises_a_channel_objective_by_a_large_factor(tiny_model):
    result = optimize(tiny_model, O.channel("conv3", 1), steps=60, lr=0.1, progress=False)
    first, last = result.history[0, 0].item(), result.history[-1, 0].item()
    assert last > 10 * max(first, 1e-3), (first, last)
    assert result.images.shape == (1, 3, 16, 16)
    assert 0 <= result.images.min() and result.images.max() <= 1
    assert result.seconds_per_step > 0


def test_batched_per_image_class_targets(tiny_model):
    """Image i maximises class i: its target logit rose, and is higher than in the other images."""
    result = optimize(tiny_model, O.class_logit([0, 1, 2]), batch=3, steps=40, lr=0.1, progress=False)
    assert (result.history[-1] > result.history[0] + 0.1).all()
    with torch.no_grad():
        logits = tiny_model(result.images)[:, :3]
    assert torch.equal(logits.argmax(0), torch.arange(3))


def test_seed_reproduces_bit_for_bit(tiny_model):
    regs = [R.jitter(2), R.random_scale((0.9, 1.1)), R.blur_gradient(5), R.normalize_gradient(), R.decay(0.01),
            R.clip_small_norm(10), R.total_variation(0.001)]
    run = lambda seed: optimize(tiny_model, O.class_logit(1), regularizers=regs, steps=15, lr=0.02,  # noqa: E731
                                optimizer="sgd", seed=seed, progress=False, octaves=2)
    a, b, c = run(3), run(3), run(4)
    assert torch.equal(a.images, b.images) and torch.equal(a.history, b.history)
    assert not torch.equal(a.images, c.images)


def test_nan_guard_names_the_step_and_the_term(tiny_model):
    exploding = O.Objective(lambda acts: acts["conv1"].mean((1, 2, 3)) / 0.0 * 0.0, ["conv1"], "nan-term")
    with pytest.raises(NonFiniteError, match="step 0: objective term 'nan-term'"):
        optimize(tiny_model, O.channel("conv1", 0) + exploding, steps=3, progress=False)

    class BadProjection(R.ImageProjection):
        def __call__(self, pixels, ctx):
            return pixels / 0.0 if ctx.step == 2 else pixels

    with pytest.raises(NonFiniteError, match=r"step 2: (NaN|Inf) in the image after BadProjection"):
        optimize(tiny_model, O.channel("conv1", 0), regularizers=[BadProjection()], steps=5, progress=False)


def test_bad_targets_fail_before_optimising(tiny_model):
    with pytest.raises(IndexError, match="channels 0..15"):
        optimize(tiny_model, O.channel("conv3", 99), steps=1, progress=False)
    with pytest.raises(KeyError, match="closest"):
        optimize(tiny_model, O.channel("conv_3", 0), steps=1, progress=False)
    with pytest.raises(KeyError, match="no class 'starfish'"):
        optimize(tiny_model, O.class_logit("starfish"), steps=1, progress=False)
    with pytest.raises(ValueError, match="unknown optimizer"):
        optimize(tiny_model, O.channel("conv1", 0), optimizer="lbfgsx", steps=1, progress=False)
    with pytest.raises(TypeError, match="act on pixels"):
        optimize(tiny_model, O.channel("conv1", 0), param="fft", regularizers=[R.decay(0.1)], steps=1, progress=False)


def test_sgd_step_is_the_source_update(tiny_model):
    """With SGD, decay and no filter, one step is exactly x ← (1−θ)(x + η·∂a/∂x) (then clamped)."""
    objective = O.channel("conv2", 1)
    start = P.pixel(1, 16, seed=5)
    x0 = start().detach().clone().requires_grad_(True)
    from stochvis.layers import capture

    objective(capture(tiny_model, x0, ["conv2"])).sum().backward()
    expected = ((1 - 0.1) * ((x0 - 0.5).detach() + 0.3 * x0.grad)).clamp(-0.5, 0.5) + 0.5
    result = optimize(tiny_model, objective, param=start, regularizers=[R.decay(0.1)], optimizer="sgd", lr=0.3,
                      steps=1, progress=False)
    assert torch.allclose(result.images, expected, atol=1e-6)


def test_octaves_snapshots_and_callback(tiny_model):
    seen = []
    result = optimize(tiny_model, O.channel("conv1", 0), steps=9, octaves=Octaves(3, 2.0), size=32,
                      record_every=4, progress=False, callback=lambda step, images, scores: seen.append(images.shape[-1]))
    assert seen == [8, 8, 8, 16, 16, 16, 32, 32, 32]
    assert [s for s, _ in result.snapshots] == [0, 4, 8, 9]
    assert result.images.shape[-1] == 32 and result.history.shape == (9, 1)
    stopped = optimize(tiny_model, O.channel("conv1", 0), steps=9, progress=False, callback=lambda s, i, v: s == 2)
    assert stopped.history.shape == (3, 1)


def test_fft_param_is_valid_and_optimisable(tiny_model):
    param = P.fft(2, 16, seed=1)
    images = param()
    assert images.shape == (2, 3, 16, 16) and 0 < images.min() and images.max() < 1
    result = optimize(tiny_model, O.channel("conv3", 1), param="fft", batch=2, steps=40, lr=0.05, progress=False)
    assert (result.history[-1] > result.history[0]).all()


def preset_inputs() -> dict[str, dict]:
    """What the presets that need more than an objective get in these tests."""
    from stochvis.optvis.maco import measure_spectrum

    images = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    return {"fel2023": dict(spectrum=measure_spectrum(images, 16), crops=2), "hamblin2024": dict(seed_images=images[:2]),
            "nguyen2016": dict(prior=tiny_generator_prior())}


def tiny_generator_prior():
    from torch import nn

    from stochvis.methods.generator_prior import GeneratorPrior

    torch.manual_seed(0)
    body = nn.Sequential(nn.Linear(6, 3 * 16 * 16), nn.Unflatten(1, (3, 16, 16)), nn.Sigmoid())
    return GeneratorPrior(body, (6,), channels=3, size=(16, 16), init_mean=0.3, init_std=0.2, box="relu").clipped(3.0)


def test_nguyen2016_is_the_dgn_am_setting_written_by_hand(tiny_model):
    prior = tiny_generator_prior()
    by_hand = optimize(tiny_model, O.class_logit([0, 2]), P.generator_latent(prior, 2, l2=1e-3, seed=0), steps=5,
                       lr=0.05, progress=False)
    preset = presets.run("nguyen2016", tiny_model, O.class_logit([0, 2]), prior=prior, batch=2, steps=5, seed=0,
                         progress=False)
    assert torch.equal(by_hand.images, preset.images) and preset.settings["param"] == "GeneratorParam"


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_presets_run(tiny_model, name):
    result = presets.run(name, tiny_model, O.class_logit(2), steps=6, size=16, progress=False,
                         **preset_inputs().get(name, {}))
    assert result.history.shape[0] == 6 and torch.isfinite(result.images).all()


def test_presets_yosinski_table_and_overrides(tiny_model):
    cfg = presets.yosinski2015(setting=3)
    assert any(isinstance(r, R.ClipSmallContribution) and r.percentile == 90 for r in cfg["regularizers"])
    with pytest.raises(ValueError, match="settings 0..3"):
        presets.yosinski2015(setting=4)
    channel_cfg = presets.config("garon2017", O.channel("conv1", 0))
    assert not any(isinstance(r, R.InvertWhenSaturated) for r in channel_cfg["regularizers"])


def test_maximization_panel_renders_its_defaults(tiny_model):
    from stochvis.viz import widgets

    panel = widgets.maximization_panel(tiny_model, size=16, steps=4)
    panel.render()
    assert panel.renders == 1 and panel.result.history.shape == (4, 1)
    assert any("InvertWhenSaturated" in r for r in panel.result.settings["regularizers"])
    panel.controls["objective"].value = "channel"
    panel.controls["decay"].value = 0.0
    panel.render()
    assert panel.result.objective.endswith(":0")
    assert not any("Decay" in r for r in panel.result.settings["regularizers"])


# ----------------------------------------------------------------------------------------------
# importance masks
# ----------------------------------------------------------------------------------------------

def pointwise_model():
    """A 1×1 convolution first: its output at (y, x) depends on pixel (y, x) only, so an objective
    reading a region of it has a gradient that is exactly zero outside that region of the image."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    return wrap_model(net, mean=(0.5,) * 3, std=(0.25,) * 3, input_size=(16, 16), classes=["a", "b"],
                      name="pointwise", aliases={"pix": "0"}, device="cpu")


def top_left(rows: int = 8, cols: int = 8) -> O.Objective:
    return O.Objective(lambda acts: acts["pix"][:, :, :rows, :cols].sum((1, 2, 3)), ["pix"], "top-left")


def tiny_generator(dim: int = 5):
    from stochvis.methods.generator_prior import GeneratorPrior

    torch.manual_seed(1)
    body = nn.Sequential(nn.Linear(dim, 3 * 16 * 16), nn.Unflatten(1, (3, 16, 16)), nn.Sigmoid())
    return GeneratorPrior(body, (dim,), channels=3, size=(16, 16), name="tiny_G")


def param_factories() -> dict:
    import functools

    from stochvis.optvis.maco import maco, measure_spectrum

    spectrum = measure_spectrum(torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(2)), 16)
    return {"pixel": "pixel", "fft": "fft", "maco": functools.partial(maco, spectrum),
            "generator": functools.partial(P.generator_latent, tiny_generator())}


@pytest.mark.parametrize("kind", ["pixel", "fft", "maco", "generator"])
def test_importance_is_where_the_objective_reads(kind):
    result = optimize(pointwise_model(), top_left(), param=param_factories()[kind], batch=2, steps=3, lr=0.05,
                      importance=True, progress=False)
    mask = result.importance
    assert mask.shape == (2, 1, 16, 16) and mask.min() >= 0
    assert (mask[..., 8:, :] == 0).all() and (mask[..., :, 8:] == 0).all()  # the objective never read these pixels
    assert (mask[..., :8, :8] > 0).all()
    torch.testing.assert_close(mask.flatten(1).amax(1), torch.ones(2))  # normalised per image
    assert result.settings["importance"] is True


def test_importance_is_off_by_default_and_follows_the_crops(tiny_model):
    plain = optimize(tiny_model, O.channel("conv1", 0), steps=3, progress=False)
    masked = optimize(tiny_model, O.channel("conv1", 0), steps=3, importance=True, progress=False)
    assert plain.importance is None and torch.equal(plain.images, masked.images)  # watching changes nothing
    # through crops the gradient reaches pixels of the rendered image, before the transforms
    result = optimize(pointwise_model(), top_left(16, 16), regularizers=[R.random_crops(3, (0.3, 0.3))], steps=2,
                      importance=True, progress=False)
    assert result.importance.shape == (1, 1, 16, 16) and result.importance.max() == 1


def test_importance_is_reset_at_each_octave():
    """The objective reads the top-left 4×4 pixels at every size: the 8-px octave's mask (a quarter of
    the image) would survive resizing if it were carried over; reset, only the last octave's 4×4 remains."""
    result = optimize(pointwise_model(), top_left(4, 4), steps=4, octaves=Octaves(2, 2.0), size=16,
                      importance=True, progress=False)
    mask = result.importance[0, 0]
    assert mask.shape == (16, 16) and (mask[:4, :4] > 0).all()
    assert mask[4:].abs().sum() == 0 and mask[:, 4:].abs().sum() == 0


# ----------------------------------------------------------------------------------------------
# transforms with several copies per image (random crops), NAdam
# ----------------------------------------------------------------------------------------------

def test_crop_scores_are_averaged_back_per_image(tiny_model):
    import random

    objective = O.channel("conv3", 1)
    crops = R.random_crops(3, (0.6, 0.4))
    start = P.pixel(2, 16, seed=4)
    images = start().detach()
    result = optimize(tiny_model, objective, param=start, regularizers=[crops], batch=2, steps=2, seed=7, progress=False)
    assert result.history.shape == (2, 2) and result.final_scores.shape == (2,)
    # step 0 again by hand: the same crops (the loop's generator, seeded), the objective on all 6, mean per image
    views = crops.setup(tiny_model, objective)(images, R.StepContext(step=0, steps=2, generator=random.Random(7)))
    expected = O.evaluate(tiny_model, objective, views).view(3, 2).mean(0)
    torch.testing.assert_close(result.history[0], expected, atol=1e-5, rtol=1e-5)


def test_crops_keep_per_image_targets_and_regularisers_per_image(tiny_model):
    """Two images, two class targets, three crops: the objective sees batches of 2 (one per crop), and
    saturation inversion (which reads the logits) sees one row per image."""
    regs = [R.random_crops(3), R.normalize_gradient(), R.invert_when_saturated(0.5)]
    result = optimize(tiny_model, O.class_logit([0, 1]), regularizers=regs, batch=2, steps=3, lr=0.05, progress=False)
    assert result.history.shape == (3, 2) and torch.isfinite(result.history).all()
    again = optimize(tiny_model, O.class_logit([0, 1]), regularizers=regs, batch=2, steps=3, lr=0.05, progress=False)
    assert torch.equal(result.images, again.images)  # the crops are drawn from the loop's seeded generator


def test_undeclared_copies_fail_clearly(tiny_model):
    class Doubler(R.Transform):
        def __call__(self, images, ctx):
            return torch.cat([images, images.flip(-1)])

    with pytest.raises(ValueError, match="must declare them in `copies`"):
        optimize(tiny_model, O.channel("conv1", 0), regularizers=[Doubler()], steps=1, progress=False)
    Doubler.copies = 2
    result = optimize(tiny_model, O.channel("conv1", 0), regularizers=[Doubler()], batch=3, steps=1, progress=False)
    assert result.final_scores.shape == (3,)


def test_nadam_is_selectable_and_is_torch_nadam(tiny_model):
    objective = O.channel("conv2", 1)
    start = P.pixel(1, 16, seed=5)
    manual = P.pixel(1, 16, seed=5)
    optimiser = torch.optim.NAdam(manual.parameters(), lr=0.02)
    from stochvis.layers import capture

    for _ in range(2):
        optimiser.zero_grad()
        (-objective(capture(tiny_model, manual(), ["conv2"])).sum()).backward()
        optimiser.step()
        manual.project_()
    result = optimize(tiny_model, objective, param=start, optimizer="nadam", lr=0.02, steps=2, progress=False)
    torch.testing.assert_close(result.images, manual().detach(), atol=1e-6, rtol=0)
    assert result.settings["optimizer"] == "nadam"
    adam = optimize(tiny_model, objective, param=P.pixel(1, 16, seed=5), optimizer="adam", lr=0.02, steps=2,
                    progress=False)
    assert not torch.allclose(adam.images, result.images, atol=1e-6)


def test_maximization_panel_runs_maco_with_its_importance_as_transparency(tiny_model):
    from stochvis.optvis import maco
    from stochvis.viz import widgets

    spectrum = maco.measure_spectrum(torch.rand(6, 3, 16, 16, generator=torch.Generator().manual_seed(0)), 16)
    panel = widgets.maximization_panel(tiny_model, size=16, steps=3, spectrum=spectrum)
    panel.controls.update(objective=panel.controls["objective"])
    panel.controls["objective"].value = "channel"
    panel.controls["param"].value = "maco"
    panel.controls["optimizer"].value = "nadam"
    panel.controls["crops"].value = 2
    panel.render()
    result = panel.result
    assert result.settings["param"] == "MacoParam" and result.importance is not None
    assert any("RandomCrops" in r for r in result.settings["regularizers"])
    assert not any(name in r for r in result.settings["regularizers"] for name in ("Decay", "ClipSmallNorm"))
    panel.controls["param"].value = "fft"
    panel.render()
    assert panel.result.settings["param"] == "FFTParam" and panel.result.importance is None
