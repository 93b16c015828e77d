"""The statistical shape model of a class's silhouettes (``stats.silhouettes``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stochvis.stats import silhouettes as S


def ell(height: int = 40, width: int = 60, top: int = 5, left: int = 7, arm: int = 12, side: int = 20) -> np.ndarray:
    """An L-shaped object (asymmetric left-right) of ``side`` pixels, at (top, left) of a blank mask."""
    mask = np.zeros((height, width), dtype=np.float32)
    mask[top:top + side, left:left + arm // 2] = 1  # the stem, on the left
    mask[top + side - arm // 2:top + side, left:left + side] = 1  # the foot
    return mask


def test_canonical_shape_forgets_position_and_size():
    small, moved_and_large = S.canonical(ell()), S.canonical(np.kron(ell(top=15, left=30), np.ones((2, 2))))
    assert small.shape == (S.RESOLUTION, S.RESOLUTION)
    assert float((small - moved_and_large).abs().mean()) < 0.02
    with pytest.raises(ValueError, match="no pixel"):
        S.canonical(np.zeros((8, 8)))


def test_signed_distance_is_negative_inside_and_grows_away_from_the_outline():
    mask = torch.zeros(21, 21)
    mask[5:16, 5:16] = 1
    d = S.signed_distance(mask)
    assert d[10, 10] < 0 and d[0, 0] > 0
    assert d[10, 10] < d[10, 7] < 0 < d[10, 3] < d[10, 0]


def test_mirrored_shapes_are_aligned_to_one_facing():
    shapes = torch.stack([S.canonical(ell(arm=a)) for a in (10, 12, 14, 16)])
    mixed = shapes.clone()
    mixed[1::2] = mixed[1::2].flip(-1)
    aligned = S.align_mirrors(mixed)
    facing_left = torch.stack([a if torch.equal(a, s) else a.flip(-1) for a, s in zip(aligned, shapes)])
    assert torch.equal(facing_left, shapes)  # each is its shape, mirrored or not
    assert all(torch.equal(a, s) for a, s in zip(aligned, shapes)) or all(
        torch.equal(a, s.flip(-1)) for a, s in zip(aligned, shapes))  # and all face one way


def test_kernel_draws_at_zero_bandwidth_are_fitted_outlines_and_wider_ones_are_not():
    masks = [ell(arm=a, side=s) for a, s in ((8, 20), (14, 24), (10, 30), (16, 18))]
    model = S.SilhouetteModel.fit(masks)
    fitted = model.mean + torch.einsum("nk,khw->nhw", model.codes, model.components)
    exact = model.draw(6, seed=3, bandwidth=0)
    assert all(min(float((d - f).abs().max()) for f in fitted) < 1e-3 for d in exact)
    bent = model.draw(6, seed=3, bandwidth=0.5)
    assert all(min(float((d - f).abs().max()) for f in fitted) > 0.1 for d in bent)
    assert 0 < model.silverman_bandwidth() < 1
    assert torch.allclose(model.draw(2, temperature=0), model.mean.expand(2, -1, -1))


def test_fit_and_draw_refuse_what_cannot_be_a_model():
    with pytest.raises(ValueError, match="at least 2 masks"):
        S.SilhouetteModel.fit([ell()])
    with pytest.raises(ValueError, match="components must be from 1 to 2"):
        S.SilhouetteModel.fit([ell(arm=a) for a in (8, 12, 16)], components=3)
    model = S.SilhouetteModel.fit([ell(arm=a) for a in (8, 12, 16)])
    with pytest.raises(ValueError, match="bandwidth"):
        model.draw(2, bandwidth=-1)


def test_placed_outlines_lie_on_the_canvas_at_the_asked_extent():
    model = S.SilhouetteModel.fit([ell(arm=a) for a in (8, 12, 16)])
    masks = S.place(model.draw(8, seed=0), 64, extent=(0.5, 0.5), seed=1)
    assert masks.shape == (8, 1, 64, 64) and 0 <= float(masks.min()) and float(masks.max()) <= 1
    for m in masks[:, 0] > 0.5:
        rows, cols = torch.nonzero(m, as_tuple=True)
        longer = max(rows.max() - rows.min(), cols.max() - cols.min()) + 1
        expected = 32 / (1 + 2 * S.MARGIN)  # half the canvas is the square; the shape spans it less its margins
        assert expected - 3 <= longer <= expected + 3
    assert not torch.equal(masks[0], masks[1])  # positions drawn per image
    with pytest.raises(ValueError, match="extent"):
        S.place(model.draw(1), 64, extent=(0.8, 0.5))


def test_placed_by_scale_a_thin_shape_is_as_large_as_a_compact_one_of_its_area():
    def bar(height: int, width: int) -> np.ndarray:
        mask = np.zeros((64, 64), dtype=np.float32)
        mask[2:2 + height, 2:2 + width] = 1
        return mask

    compact = S.SilhouetteModel.fit([bar(20, 20), bar(21, 21)]).draw(1, bandwidth=0)
    thin = S.SilhouetteModel.fit([bar(8, 48), bar(8, 50)]).draw(1, bandwidth=0)

    def box(mask: torch.Tensor) -> tuple[int, int]:
        rows, cols = torch.nonzero(mask[0] > 0.5, as_tuple=True)
        return int(rows.max() - rows.min()) + 1, int(cols.max() - cols.min()) + 1

    for shape in (compact, thin):
        height, width = box(S.place(shape, 128, scale=(0.3, 0.3), seed=0)[0])
        assert abs((height * width) ** 0.5 - 0.3 * 128) <= 3  # the shape's geometric mean, whatever its proportions
    by_extent = [box(S.place(shape, 128, extent=(0.6, 0.6), seed=0)[0]) for shape in (compact, thin)]
    assert by_extent[1][0] * by_extent[1][1] < 0.5 * by_extent[0][0] * by_extent[0][1]  # a square's extent shrinks it
    capped = box(S.place(thin, 64, scale=(0.9, 0.9), seed=0)[0])
    assert abs(max(capped) - 64 / (1 + 2 * S.MARGIN)) <= 3  # the square capped to the canvas, not past it
    with pytest.raises(ValueError, match="scale"):
        S.place(compact, 64, scale=(0.5, 1.5))
