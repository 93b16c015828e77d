"""The patch prior: mean-removed patches, a mixture's log-likelihood as sklearn's, and a penalty on outlier patches
that pulls speckle out and never rewards flatness."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from stochvis.optvis import regularizers as R


def smooth_images(n: int, size: int = 16, seed: int = 0) -> torch.Tensor:
    """Colour images with detail only at a quarter of their resolution: 'photographs' to a 4×4 patch."""
    coarse = torch.rand(n, 3, 4, 4, generator=torch.Generator().manual_seed(seed))
    return F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=True)


def speckled(images: torch.Tensor, amount: float = 0.3, seed: int = 1) -> torch.Tensor:
    noise = torch.rand(images.shape, generator=torch.Generator().manual_seed(seed)) - 0.5
    return (images + amount * noise).clamp(0, 1)


@pytest.fixture(scope="module")
def mixture() -> R.PatchMixture:
    return R.fit_patch_mixture(smooth_images(24), size=4, components=2, stride=2, max_patches=3000)


def test_patches_are_the_unfolded_windows_with_each_channels_mean_removed():
    images = torch.rand(2, 3, 6, 6)
    patches = R.image_patches(images, 3, 3)
    assert patches.shape == (2, 4, 27)
    window = images[1, :, 3:6, 0:3].reshape(3, 9)  # the third window (row 1, column 0) of the second image
    assert torch.allclose(patches[1, 2], (window - window.mean(1, keepdim=True)).flatten(), atol=1e-6)
    assert torch.allclose(patches.view(2, 4, 3, 9).mean(-1), torch.zeros(2, 4, 3), atol=1e-6)


def test_patches_refuse_grey_images_and_images_smaller_than_a_patch():
    with pytest.raises(ValueError, match="colour images"):
        R.image_patches(torch.rand(1, 1, 8, 8), 3, 1)
    with pytest.raises(ValueError, match=r"allow no scale"):
        R.image_patches(torch.rand(1, 3, 4, 4), 6, 1)
    with pytest.raises(ValueError, match=r"allow scales 1 to 2"):  # 16 px hold 6×6 patches up to scale 2, not 3
        R.image_patches(torch.rand(1, 3, 16, 16), 6, 1, scale=3)
    with pytest.raises(ValueError, match="whole scale"):
        R.image_patches(torch.rand(1, 3, 16, 16), 6, 1, scale=0)


def test_log_likelihood_is_sklearns_per_dimension():
    from sklearn.mixture import GaussianMixture

    data = torch.randn(400, 12, generator=torch.Generator().manual_seed(3)).double()
    fitted = GaussianMixture(3, covariance_type="full", random_state=0).fit(data.numpy())
    mixture = R.PatchMixture(2, torch.as_tensor(fitted.means_).float(),
                             torch.as_tensor(fitted.precisions_cholesky_).float(),
                             torch.as_tensor(fitted.weights_).float().log(), threshold=0.0)
    expected = torch.as_tensor(fitted.score_samples(data[:20].numpy())).float() / 12
    assert torch.allclose(mixture.log_likelihood(data[:20].float()), expected, rtol=1e-4, atol=1e-4)


def test_the_gradient_is_the_plain_expressions_and_only_outlier_patches_carry_one(mixture):
    """The log-likelihood's own backward (sparse over patches) against autograd of the textbook expression, in
    double precision, on images whose patches are partly outliers so that the skipped rows are exercised."""
    images = torch.cat([smooth_images(2, seed=11), speckled(smooth_images(2, seed=12), 0.4)]).requires_grad_(True)
    penalty = R.PatchOutliers(1.0, mixture, stride=2)
    penalty(images).sum().backward()

    reference = images.detach().double().requires_grad_(True)
    patches = R.image_patches(reference, 4, 2)
    centred = patches.unsqueeze(-2) - mixture.means.double()  # (N, L, K, D)
    projected = torch.einsum("nlkd,kde->nlke", centred, mixture.precision_cholesky.double())
    log_det = torch.log(torch.diagonal(mixture.precision_cholesky.double(), dim1=-2, dim2=-1)).sum(-1)
    d = patches.shape[-1]
    per_component = -0.5 * projected.pow(2).sum(-1) + log_det - 0.5 * d * torch.log(torch.tensor(2 * torch.pi))
    scores = torch.logsumexp(per_component + mixture.log_weights.double(), -1) / d
    outliers = scores < mixture.threshold
    assert 0.05 < float(outliers.double().mean()) < 0.95  # both kinds of patch are present
    (mixture.threshold - scores).clamp_min(0).mean(1).sum().backward()
    assert torch.allclose(images.grad.double(), reference.grad, rtol=1e-3, atol=1e-5)
    assert images.grad[:2].norm() < images.grad[2:].norm() / 2  # the smooth pair, mostly inliers, barely moves


def test_the_mixtures_parameters_take_no_gradient(mixture):
    means = mixture.means.clone().requires_grad_(True)
    moving = dataclasses.replace(mixture, means=means)
    with pytest.raises(NotImplementedError, match="fitted by EM"):
        moving.log_likelihood(R.image_patches(speckled(smooth_images(1)), 4, 2)).sum().backward()


def test_a_mixture_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="means"):
        R.PatchMixture(2, torch.zeros(3, 10), torch.zeros(3, 12, 12), torch.zeros(3), threshold=0.0)


def test_the_threshold_is_a_low_quantile_of_real_patches(mixture):
    real = smooth_images(24, seed=5)  # unseen images of the same kind
    below = (mixture.log_likelihood(R.image_patches(real, 4, 2)) < mixture.threshold).float().mean()
    noisy = (mixture.log_likelihood(R.image_patches(speckled(real), 4, 2)) < mixture.threshold).float().mean()
    assert 0.0 < float(below) < 0.3  # about the 10% quantile, give or take the sample
    assert float(noisy) > 0.9


def test_the_penalty_is_zero_for_real_and_flat_images_and_grows_with_speckle(mixture):
    penalty = R.PatchOutliers(2.0, mixture, stride=2)
    real = smooth_images(4, seed=7)
    flat = torch.full((1, 3, 16, 16), 0.5)
    assert float(penalty(flat)) == 0.0  # flatness is never rewarded below zero
    light, heavy = penalty(speckled(real, 0.1)), penalty(speckled(real, 0.4))
    assert (penalty(real) < light).all() and (light < heavy).all()
    assert torch.allclose(R.PatchOutliers(1.0, mixture, stride=2)(speckled(real, 0.4)), heavy / 2)


def test_descending_the_penalty_takes_speckle_out(mixture):
    images = speckled(smooth_images(2, seed=9), 0.4).requires_grad_(True)
    penalty = R.PatchOutliers(1.0, mixture, stride=2)
    start = float(penalty(images.detach()).sum())
    optimiser = torch.optim.Adam([images], lr=0.01)
    for _ in range(30):
        optimiser.zero_grad()
        penalty(images).sum().backward()
        optimiser.step()
    assert float(penalty(images.detach()).sum()) < 0.5 * start


def test_each_image_is_scored_under_its_own_mixture(mixture):
    noise_mixture = R.fit_patch_mixture(torch.rand(24, 3, 16, 16), size=4, components=2, stride=2, max_patches=3000)
    noisy = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(11))
    both = R.PatchOutliers(1.0, [mixture, noise_mixture], stride=2)(noisy)
    assert torch.allclose(both[0], R.PatchOutliers(1.0, mixture, stride=2)(noisy[:1])[0])
    assert torch.allclose(both[1], R.PatchOutliers(1.0, noise_mixture, stride=2)(noisy[1:])[0])
    assert both[0] > both[1]


def test_bad_penalties_are_refused_with_what_is_valid(mixture):
    with pytest.raises(ValueError, match="one per image"):
        R.PatchOutliers(1.0, [mixture, mixture, mixture])(torch.rand(2, 3, 16, 16))
    with pytest.raises(ValueError, match="stride"):
        R.PatchOutliers(1.0, mixture, stride=0)
    with pytest.raises(ValueError, match="at least 2 images"):
        R.fit_patch_mixture(torch.rand(1, 3, 16, 16))
    with pytest.raises(ValueError, match="quantile"):
        R.fit_patch_mixture(torch.rand(4, 3, 16, 16), outlier_quantile=1.0)


def test_a_coarser_scale_takes_the_patches_of_the_averaged_image():
    images = torch.rand(2, 3, 16, 16)
    assert torch.equal(R.image_patches(images, 4, 2, scale=2), R.image_patches(F.avg_pool2d(images, 2), 4, 2))
    coarse = R.fit_patch_mixture(smooth_images(24, size=32), size=4, components=2, stride=2, max_patches=3000, scale=2)
    assert coarse.scale == 2
    assert torch.equal(coarse.patches(images, 2), R.image_patches(images, 4, 2, scale=2))
    with pytest.raises(ValueError, match="scale=0"):
        R.PatchMixture(2, torch.zeros(1, 12), torch.zeros(1, 12, 12), torch.zeros(1), 0.0, scale=0)


def test_a_coarser_scales_prior_sees_coarse_speckle_and_not_the_finest_grain():
    """Speckle in 2×2 blocks is pixel noise to a mixture at half scale; a ±checkerboard of single pixels averages
    away there, while the image's own scale sees both: each scale penalises its own grain."""
    real = smooth_images(24, size=32)
    fine = R.fit_patch_mixture(real, size=4, components=2, stride=2, max_patches=3000)
    coarse = R.fit_patch_mixture(real, size=4, components=2, stride=2, max_patches=3000, scale=2)
    images = smooth_images(2, size=32, seed=7).clamp(0.2, 0.8)
    noise = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(3)) - 0.5
    blocky = images + 0.4 * F.interpolate(noise, scale_factor=2, mode="nearest")
    signs = torch.ones(32, 32)
    signs[1::2, ::2] = signs[::2, 1::2] = -1  # every 2×2 block sums to zero
    checkered = images + 0.2 * signs
    at_fine, at_coarse = R.PatchOutliers(1.0, fine, stride=2), R.PatchOutliers(1.0, coarse, stride=2)
    assert (at_coarse(blocky) > at_coarse(images)).all() and (at_fine(blocky) > at_fine(images)).all()
    assert (at_fine(checkered) > at_fine(images)).all()
    assert torch.allclose(at_coarse(checkered), at_coarse(images), atol=1e-5)  # the averaged images are the same


def test_a_masked_fit_models_the_masked_pixels_only():
    """Smooth objects on a speckled canvas: fitted on the objects' patches, the mixture calls the canvas's speckle
    outliers; fitted on every patch, it has learnt the speckle as likely."""
    objects = smooth_images(24, size=16)
    masks = torch.zeros(24, 1, 16, 16)
    masks[..., :, :8] = 1
    canvas = speckled(torch.full_like(objects, 0.5), 0.8)
    images = masks * objects + (1 - masks) * canvas
    on_objects = R.fit_patch_mixture(images, size=4, components=2, stride=2, max_patches=3000, masks=masks)
    on_all = R.fit_patch_mixture(images, size=4, components=2, stride=2, max_patches=3000)
    noise = R.image_patches(canvas[:4, ..., 8:], 4, 2)
    assert float((on_objects.log_likelihood(noise) < on_objects.threshold).float().mean()) > 0.9
    assert float((on_all.log_likelihood(noise) < on_all.threshold).float().mean()) < 0.5
    with pytest.raises(ValueError, match="masks must be"):
        R.fit_patch_mixture(images, masks=masks[:3])
    with pytest.raises(ValueError, match="no patch holds"):
        R.fit_patch_mixture(images, size=4, stride=2, masks=torch.zeros_like(masks))
