"""The optimisation loop: it works, it is reproducible, it fails loudly."""

from __future__ import annotations

import pytest
import torch

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


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_presets_run(tiny_model, name):
    result = presets.run(name, tiny_model, O.class_logit(2), steps=6, size=16, progress=False)
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
