"""Each regulariser's exact effect on a known tensor."""

from __future__ import annotations

import random

import pytest
import torch

from stochvis.models import LOGITS
from stochvis.optvis import regularizers as R


def ctx(step: int = 0, seed: int = 0, **kwargs) -> R.StepContext:
    return R.StepContext(step=step, steps=10, generator=random.Random(seed), **kwargs)


def test_decay_multiplies_by_one_minus_theta():
    x = torch.randn(2, 3, 5, 5)
    assert torch.equal(R.decay(0.25)(x, ctx()), x * 0.75)


def test_jitter_is_a_shift():
    x = torch.arange(2 * 3 * 6 * 7, dtype=torch.float32).reshape(2, 3, 6, 7)
    rng_state = random.Random(3)
    dy, dx = rng_state.randint(-2, 2), rng_state.randint(-2, 2)
    shifted = R.jitter(2)(x, ctx(seed=3))
    assert torch.equal(shifted, torch.roll(x, (dy, dx), dims=(2, 3)))
    # every pixel moved by the same offset: the shifted image is a permutation of the original
    assert torch.equal(shifted.flatten().sort().values, x.flatten().sort().values)
    assert torch.equal(R.jitter(0)(x, ctx()), x)


def test_blur_gradient_keeps_the_mean_and_spreads_an_impulse():
    grad = torch.zeros(1, 3, 21, 21)
    grad[0, :, 10, 10] = 1.0
    blurred = R.BlurGradient(max_kernel=7, min_kernel=7)(grad, ctx())
    assert torch.allclose(blurred.sum(dim=(2, 3)), grad.sum(dim=(2, 3)), atol=1e-6)  # mass kept
    assert blurred[0, 0, 10, 10] < 1.0 and blurred[0, 0, 10, 13] > 0 and blurred[0, 0, 10, 14] == 0  # 7×7 support
    constant = torch.full((1, 3, 9, 9), 0.3)
    assert torch.allclose(R.BlurGradient(9, 3)(constant, ctx()), constant, atol=1e-6)


def test_blur_gradient_kernel_changes_between_steps():
    grad = torch.zeros(1, 1, 31, 31)
    grad[0, 0, 15, 15] = 1.0
    rng = random.Random(0)
    peaks = {float(R.BlurGradient(11, 1)(grad, R.StepContext(step=s, steps=20, generator=rng))[0, 0, 15, 15])
             for s in range(20)}
    assert len(peaks) >= 3  # several kernel sizes were drawn


def test_blur_image_only_every_k_steps():
    x = torch.zeros(1, 3, 15, 15)
    x[..., 7, 7] = 1.0
    blur = R.blur_image(sigma=1.0, every=4)
    assert torch.equal(blur(x, ctx(step=1)), x)
    out = blur(x, ctx(step=4))
    assert out[0, 0, 7, 7] < 1.0 and torch.allclose(out.sum(), x.sum(), atol=1e-5)


def test_clip_small_norm_zeros_exactly_the_low_norm_pixels():
    x = torch.zeros(1, 3, 2, 5)
    norms = torch.arange(1, 11, dtype=torch.float32).reshape(2, 5)  # pixel norms 1..10
    x[0, 0] = norms  # all energy in the red channel: the RGB norm is the value
    out = R.clip_small_norm(30.0)(x, ctx())
    kept = out[0].norm(dim=0)
    # 30th percentile of 1..10 (lower interpolation) is 3: norms 1 and 2 go, 3..10 stay
    assert torch.equal(kept == 0, norms < 3)
    assert torch.equal(out[0, 0][norms >= 3], norms[norms >= 3])


def test_clip_small_contribution_uses_pixel_times_gradient():
    pixels = torch.ones(1, 3, 2, 2)
    grad = torch.zeros(1, 3, 2, 2)
    grad[0, :, 0, 0], grad[0, :, 0, 1], grad[0, :, 1, 0], grad[0, :, 1, 1] = -4.0, 0.1, 2.0, -0.2
    out = R.clip_small_contribution(50.0)(pixels, ctx(pixels=pixels, grad=grad))
    # |Σc x·g| = 12, 0.3, 6, 0.6: the median (lower) is 0.6, so only 0.3 is below it
    expected_zero = torch.tensor([[False, True], [False, False]])
    assert torch.equal(out[0, 0] == 0, expected_zero)
    with pytest.raises(RuntimeError, match="gradient"):
        R.clip_small_contribution(50.0)(pixels, ctx())


def test_normalize_gradient_gives_unit_mean_abs_per_image():
    grad = torch.randn(3, 3, 8, 8) * torch.tensor([1e-4, 1.0, 50.0]).view(3, 1, 1, 1)
    out = R.normalize_gradient()(grad, ctx())
    assert torch.allclose(out.abs().flatten(1).mean(1), torch.ones(3), atol=1e-5)


def test_invert_when_saturated_flips_only_saturated_images(tiny_model):
    from stochvis.optvis import objectives as O

    inv = R.invert_when_saturated(0.9).setup(tiny_model, O.class_logit([1, 2]).bind(tiny_model))
    logits = torch.tensor([[0.0, 10.0, 0, 0, 0], [0.0, 0, 1.0, 0, 0]])  # image 0 saturated on class 1
    grad = torch.ones(2, 3, 4, 4)
    out = inv(grad, ctx(activations={LOGITS: logits}))
    assert torch.equal(out[0], -grad[0]) and torch.equal(out[1], grad[1])
    with pytest.raises(ValueError, match="class targets"):
        R.invert_when_saturated().setup(tiny_model, O.channel("conv1", 0))


def test_penalties_exact_values():
    images = torch.full((2, 3, 4, 4), 0.5)
    images[1, :, :, 2:] = 1.0  # a vertical edge of height 0.5 in every channel
    l2 = R.l2(2.0)(images)
    assert torch.allclose(l2, torch.tensor([0.0, 2.0 * 3 * 8 * 0.25]))
    tv = R.total_variation(1.0, beta=2.0)(images)
    # the dx differences across the edge: 3 rows (last row is dropped) × 3 channels × 0.5²
    assert torch.allclose(tv, torch.tensor([0.0, 3 * 3 * 0.25]))


def test_transforms_keep_gradients_flowing():
    x = torch.rand(1, 3, 16, 16, requires_grad=True)
    y = x
    for t in (R.pad(2), R.jitter(2), R.random_scale((1.1,)), R.random_rotate((5.0,))):
        y = t(y, ctx())
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert R.pad(3)(torch.zeros(1, 3, 4, 4), ctx()).shape == (1, 3, 10, 10)


# ----------------------------------------------------------------------------------------------
# MACO's random crops (a transform with several copies per image)
# ----------------------------------------------------------------------------------------------

def exact_crops(crops: int = 1, box: float = 1.0, size=(16, 16)) -> R.RandomCrops:
    """Crops with no randomness: centred, side ``box``, no noise."""
    return R.RandomCrops(crops, (box, box), box_std=0.0, centre_std=0.0, noise_std=0.0, noise_uniform=0.0, size=size)


def test_random_crops_full_box_is_the_identity_copy_major():
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    out = exact_crops(crops=3)(x, ctx())
    assert out.shape == (6, 3, 16, 16) and R.RandomCrops(3).copies == 3
    for j in range(3):  # version j of image i at row j·N + i
        torch.testing.assert_close(out[2 * j:2 * j + 2], x, atol=1e-6, rtol=0)


def test_random_crops_half_box_is_the_central_quarter_resized():
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    same_size = exact_crops(box=0.5, size=(8, 8))(x, ctx())
    torch.testing.assert_close(same_size, x[..., 4:12, 4:12], atol=1e-6, rtol=0)  # pixel centres map onto pixel centres
    upsampled = exact_crops(box=0.5, size=(16, 16))(x, ctx())
    assert upsampled.shape == (1, 3, 16, 16)
    torch.testing.assert_close(upsampled.mean(), x[..., 4:12, 4:12].mean(), atol=0.02, rtol=0)


def test_random_crops_outside_the_image_read_mid_grey():
    white = torch.ones(1, 3, 16, 16)
    far = R.RandomCrops(64, (0.1, 0.1), centre_std=1.0, noise_std=0.0, noise_uniform=0.0, size=(8, 8))(white, ctx())
    assert far.min() >= 0.5 - 1e-6 and far.max() <= 1 + 1e-6
    fully_outside = (far - 0.5).abs().flatten(1).amax(1) < 1e-6
    assert fully_outside.any() and not fully_outside.all()


def test_random_crops_schedule_setup_seed_noise_and_gradient(tiny_model):
    crops = R.random_crops(4)
    assert crops.mean_box(0, 256) == 0.5 and abs(crops.mean_box(255, 256) - 0.05) < 1e-12
    assert abs(crops.mean_box(85, 171) - 0.275) < 1e-12  # linear: halfway is the mean of the ends
    ready = crops.setup(tiny_model, None)
    assert ready.size == (16, 16) and crops.size is None  # setup does not change the configured piece
    x = torch.rand(2, 3, 24, 24, requires_grad=True)
    a, b, c = ready(x, ctx(seed=3)), ready(x, ctx(seed=3)), ready(x, ctx(seed=4))
    assert a.shape == (8, 3, 16, 16) and torch.equal(a, b) and not torch.equal(a, c)
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    grey = torch.full((1, 3, 64, 64), 0.5)
    noise = R.RandomCrops(4, (1.0, 1.0), box_std=0.0, centre_std=0.0)(grey, ctx()) - 0.5
    expected = (0.04**2 + 0.02**2 / 3) ** 0.5  # Gaussian 0.04 + uniform ±0.02: Xplique's 0.08, ±0.04 halved
    assert abs(noise.std().item() - expected) < 0.03 * expected and abs(noise.mean().item()) < 1e-3
    with pytest.raises(ValueError, match="at least one crop"):
        R.random_crops(0)


def test_from_strengths_is_the_one_builder():
    """Zero is off; each strength makes its piece; inversion's priors are this builder with M&V's weights."""
    from stochvis.methods import inversion

    assert R.from_strengths(normalize=False) == []
    regs = R.from_strengths(jitter=3, blur_kernel=5, decay=0.1, blur_sigma=0.5, tv=0.2, tv_beta=2.0, l2=0.3,
                            alpha_norm=0.4, alpha=6.0)
    assert [type(r).__name__ for r in regs] == ["Jitter", "BlurGradient", "NormalizeGradient", "Decay", "BlurImage",
                                                "TotalVariation", "Lp", "Lp"]
    assert (regs[5].weight, regs[5].beta, regs[6].p, regs[7].weight, regs[7].p) == (0.2, 2.0, 2.0, 0.4, 6.0)
    priors = inversion.image_priors(64, blur_every=3)
    pixels = 64 * 64
    assert [type(r).__name__ for r in priors] == ["Jitter", "BlurImage", "TotalVariation", "Lp"]
    assert priors[2].weight == pytest.approx(0.1 / (pixels * inversion.GRADIENT_NORM_V ** 2.0), rel=1e-12)
    assert priors[3].weight == pytest.approx(0.01 / (pixels * inversion.PIXEL_NORM_B ** 6.0), rel=1e-12)
    assert (priors[1].sigma, priors[1].every, priors[2].beta, priors[3].p) == (0.5, 3, 2.0, 6.0)
    assert not any(isinstance(r, R.NormalizeGradient) for r in priors)


def test_opponent_colours_are_flat_for_grey_and_read_colour():
    grey = torch.full((1, 3, 2, 2), 0.3)
    assert torch.allclose(R.opponent_colours(grey)[0, :, 0, 0], torch.tensor([0.3, 0.0, 0.0]))
    red = torch.zeros(1, 3, 2, 2)
    red[:, 0] = 1.0
    assert torch.allclose(R.opponent_colours(red)[0, :, 0, 0], torch.tensor([1 / 3, 1.0, 0.5]))
    with pytest.raises(ValueError, match="RGB images"):
        R.opponent_colours(torch.zeros(1, 1, 2, 2))


def test_colour_quantiles_is_zero_at_its_target_one_at_its_mean_and_pulls_grey_towards_colour():
    generator = torch.Generator().manual_seed(0)
    colourful = torch.rand(4, 3, 8, 8, generator=generator)
    target = R.colour_curves(colourful, quantiles=8)
    assert target.shape == (3, 8)
    own = R.colour_curves(colourful[:1], quantiles=8)
    assert float(R.ColourQuantiles(2.0, own)(colourful[:1])) == pytest.approx(0.0, abs=1e-10)
    # an image flat at the target's mean opponent values is at 1 in every channel: weight × 1
    flat_opponent = target.mean(-1)
    flat_rgb = torch.linalg.solve(R.penalties.OPPONENT, flat_opponent)[None, :, None, None].expand(1, 3, 8, 8)
    assert float(R.ColourQuantiles(2.0, target)(flat_rgb)) == pytest.approx(2.0, rel=1e-5)
    # from grey, the penalty alone restores the colour range of the target's images
    image = torch.full((1, 3, 8, 8), 0.5) + 0.01 * torch.rand(1, 3, 8, 8, generator=generator)
    colour_range = lambda x: float((x.amax(1) - x.amin(1)).mean())  # noqa: E731
    assert colour_range(image) < 0.1 * colour_range(colourful)
    image.requires_grad_(True)
    penalty = R.ColourQuantiles(1.0, target)
    before = float(penalty(image.detach()))
    optimiser = torch.optim.Adam([image], lr=0.02)
    for _ in range(150):
        optimiser.zero_grad()
        penalty(image).sum().backward()
        optimiser.step()
    assert float(penalty(image.detach())) < 0.1 * before
    assert colour_range(image.detach()) > 0.7 * colour_range(colourful)


def test_colour_quantiles_per_image_targets_and_bad_targets():
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(2, 3, 8, 8, generator=generator)
    per_image = torch.stack([R.colour_curves(images[i:i + 1], 4) for i in range(2)])
    assert torch.allclose(R.ColourQuantiles(1.0, per_image)(images), torch.zeros(2), atol=1e-10)
    swapped = R.ColourQuantiles(1.0, per_image.flip(0))(images)
    assert (swapped > 0).all()
    with pytest.raises(ValueError, match="2 per-image targets for a batch of 3"):
        R.ColourQuantiles(1.0, per_image)(torch.rand(3, 3, 8, 8))
    with pytest.raises(ValueError, match="3 opponent channels"):
        R.ColourQuantiles(1.0, torch.rand(2, 4).sort(-1).values)
    with pytest.raises(ValueError, match="constant"):
        R.ColourQuantiles(1.0, torch.zeros(3, 4))
    with pytest.raises(ValueError, match="not ascending"):
        R.ColourQuantiles(1.0, torch.rand(3, 4).sort(-1, descending=True).values + 1)


def test_ring_amplitudes_put_a_grating_in_its_ring_and_its_colour_channel():
    size = 32
    x = torch.arange(size, dtype=torch.float32)
    grating = 0.5 + 0.25 * torch.cos(2 * torch.pi * 5 * x / size)[None, :].expand(size, size)  # 5 cycles across
    grey_grating = grating.expand(1, 3, size, size)
    amplitudes = R.ring_amplitudes(grey_grating)
    assert amplitudes.shape == (1, 3, size // 2)
    luminance = amplitudes[0, 0]
    assert int(luminance.argmax()) == 4 and float(luminance[4]) > 100 * float(luminance.sum() - luminance[4])
    assert float(amplitudes[0, 1:].abs().max()) < 1e-4  # a grey grating has no chroma
    red_green = torch.stack([grating, 1 - grating, torch.full_like(grating, 0.5)])[None]  # lum constant
    amplitudes = R.ring_amplitudes(red_green)[0]
    assert int(amplitudes[1].argmax()) == 4 and float(amplitudes[0].max()) < 1e-4
    with pytest.raises(ValueError, match="at least 4×4"):
        R.ring_amplitudes(torch.rand(1, 3, 2, 8))


def test_spectrum_match_is_zero_at_its_target_one_when_flat_and_pulls_fine_detail_down():
    generator = torch.Generator().manual_seed(0)
    noise = torch.rand(3, 3, 32, 32, generator=generator)
    smooth = torch.nn.functional.avg_pool2d(noise, 5, 1, 2, count_include_pad=False)  # less fine detail
    target = R.spectrum_profile(smooth)
    assert target.shape == (3, 16)
    own = R.spectrum_profile(smooth[:1])
    assert float(R.SpectrumMatch(2.0, own)(smooth[:1])) == pytest.approx(0.0, abs=1e-10)
    assert float(R.SpectrumMatch(2.0, target)(torch.full((1, 3, 32, 32), 0.4))) == pytest.approx(2.0, rel=1e-5)
    per_image = torch.stack([R.spectrum_profile(smooth[i:i + 1]) for i in range(3)])
    assert torch.allclose(R.SpectrumMatch(1.0, per_image)(smooth), torch.zeros(3), atol=1e-10)
    # from white noise, the penalty alone moves the fine rings' amplitude towards the smooth images'
    image = noise[:1].clone().requires_grad_(True)
    penalty = R.SpectrumMatch(1.0, target)
    fine = lambda x: float(R.ring_amplitudes(x)[..., 8:].mean())  # noqa: E731
    before, fine_before = float(penalty(image.detach())), fine(image.detach())
    optimiser = torch.optim.Adam([image], lr=0.01)
    for _ in range(100):
        optimiser.zero_grad()
        penalty(image).sum().backward()
        optimiser.step()
    assert float(penalty(image.detach())) < 0.2 * before
    assert fine(image.detach()) < 0.6 * fine_before
    assert fine(image.detach()) == pytest.approx(fine(smooth), rel=0.3)


def test_spectrum_match_refuses_targets_it_cannot_compare():
    target = R.spectrum_profile(torch.rand(2, 3, 16, 16))
    with pytest.raises(ValueError, match="3 per-image targets for a batch of 2"):
        R.SpectrumMatch(1.0, target.expand(3, -1, -1))(torch.rand(2, 3, 16, 16))
    assert target.shape == (3, 8)
    with pytest.raises(ValueError, match="have 16 rings, the target 8"):
        R.SpectrumMatch(1.0, target)(torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match="opponent channels"):
        R.SpectrumMatch(1.0, torch.rand(4, 8) + 0.1)
    with pytest.raises(ValueError, match="finite and positive"):
        R.SpectrumMatch(1.0, torch.zeros(3, 8))


def test_a_penalty_on_some_rows_scores_those_rows_only():
    images = torch.rand(4, 3, 8, 8)
    whole = R.TotalVariation(0.5)(images[1:3])
    part = R.OnRows(R.TotalVariation(0.5), 1, 3)
    scores = part(images)
    assert torch.allclose(scores[1:3], whole) and torch.all(scores[[0, 3]] == 0)
    assert part.weight == 0.5 and part.name.endswith("[1:3]")
    with pytest.raises(ValueError, match="start < stop"):
        R.OnRows(R.TotalVariation(), 2, 2)
    with pytest.raises(TypeError, match="restricts a Penalty"):
        R.OnRows(R.jitter(2), 0, 1)
    with pytest.raises(ValueError, match="rows 1:3 of a batch of 2"):
        part(torch.rand(2, 3, 8, 8))
