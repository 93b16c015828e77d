"""An object of a given outline over a backdrop (``optvis.shaped``), its views, and terms on one view."""

from __future__ import annotations

import pytest
import torch

from stochvis.methods.distribution_matching import match_in_outline
from stochvis.optvis import objectives as O
from stochvis.optvis import params as P
from stochvis.optvis.shaped import GREY, ShapedParam, shaped


def half_mask(n: int = 2, size: int = 16) -> torch.Tensor:
    mask = torch.zeros(n, 1, size, size)
    mask[..., :, : size // 2] = 1  # the object on the left half
    return mask


def test_views_are_the_blend_and_the_object_on_grey():
    param = shaped(half_mask(), P.fft, P.fft, seed=0, views=("composite", "object"))
    images = param()
    assert images.shape == (4, 3, 16, 16) and param.rows("object") == (2, 4)
    front, back = param.foreground(), param.backdrop()
    assert not torch.allclose(front, back)  # two images, two seeds
    assert torch.allclose(images[:2, ..., :8], front[..., :8]) and torch.allclose(images[:2, ..., 8:], back[..., 8:])
    assert torch.allclose(images[2:, ..., :8], front[..., :8])
    assert torch.all(images[2:, ..., 8:] == GREY)
    assert torch.allclose(param.composites(), images[:2].clamp(0, 1))


def test_the_backdrop_view_is_the_whole_backdrop_also_behind_the_object():
    param = shaped(half_mask(), P.fft, P.fft, seed=0, views=("composite", "object", "backdrop"))
    images = param()
    assert images.shape == (6, 3, 16, 16) and param.rows("backdrop") == (4, 6)
    back = param.backdrop()
    assert torch.allclose(images[4:], back)  # behind the object too, where the composite shows the foreground
    assert not torch.allclose(images[4:, ..., :8], images[:2, ..., :8])
    alone = shaped(half_mask(), P.fft, P.fft, seed=0, views=("backdrop",))
    assert torch.allclose(alone(), back)  # the backdrop is the same image whichever views are shown


def test_shaped_refuses_masks_and_views_that_do_not_fit():
    with pytest.raises(ValueError, match="mask must be"):
        ShapedParam(P.fft(2, 16), P.fft(2, 16), half_mask()[..., :8])
    with pytest.raises(ValueError, match="must agree"):
        ShapedParam(P.fft(2, 16), P.fft(3, 16), half_mask())
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        shaped(half_mask() * 2, P.fft, P.fft)
    with pytest.raises(ValueError, match="composite, object, backdrop"):
        shaped(half_mask(), P.fft, P.fft, views=("composite", "composite"))
    with pytest.raises(ValueError, match="composite, object, backdrop"):
        shaped(half_mask(), P.fft, P.fft, views=("background",))
    with pytest.raises(ValueError, match="not shown"):
        shaped(half_mask(), P.fft, P.fft).rows("object")


def test_a_term_on_some_rows_scores_those_rows_only(tiny_model):
    model = tiny_model
    images = torch.rand(4, 3, 16, 16)
    whole = O.evaluate(model, O.class_logit([0, 1]), images[1:3])
    part = O.evaluate(model, O.on_rows(O.class_logit([0, 1]), 1, 3), images)
    assert torch.allclose(part[1:3], whole) and torch.all(part[[0, 3]] == 0)
    with pytest.raises(ValueError, match="start < stop"):
        O.on_rows(O.class_logit(0), 2, 2)


def test_the_object_term_moves_the_object_and_the_backdrop_outside_stays_the_backdrop(tiny_model):
    model = tiny_model
    curves = {"conv1": torch.rand(2, 8, 4).sort(-1).values}  # the tiny net's first layer: 8 channels
    common = dict(foreground=P.fft, backdrop=P.fft, steps=20, seed=0, lr=0.1, jitter=0, strength=0.1)
    mask = half_mask()
    images, run = match_in_outline(model, curves, mask, object_objective=10 * O.class_logit([0, 1]), **common)
    assert images.shape == (2, 3, 16, 16) and run.param.batch == 4
    assert torch.allclose(images[..., 8:], run.param.backdrop().detach().clamp(0, 1)[..., 8:])
    object_logits = O.evaluate(model, O.class_logit([0, 1]),
                               mask * run.param.foreground().detach() + (1 - mask) * GREY)
    _, plain = match_in_outline(model, curves, mask, **common)
    plain_logits = O.evaluate(model, O.class_logit([0, 1]),
                              mask * plain.param.foreground().detach() + (1 - mask) * GREY)
    assert torch.all(object_logits > plain_logits)  # the object view's term made the object more of its class
    assert plain.param.batch == 2  # no object view without an object term
    with pytest.raises(ValueError, match="batch"):
        match_in_outline(model, {"conv1": curves["conv1"][:1].expand(3, -1, -1)}, mask, **common)


def test_the_objects_curves_pull_the_object_alone_towards_them(tiny_model):
    from stochvis.methods.distribution_matching import distances

    model = tiny_model
    torch.manual_seed(0)
    curves = {"conv1": torch.rand(2, 8, 4).sort(-1).values}
    objects = {"conv1": (2 * torch.rand(8, 4)).sort(-1).values}  # one (C, Q) for every image
    common = dict(foreground=P.fft, backdrop=P.fft, steps=30, seed=0, lr=0.1, jitter=0, strength=1.0)
    mask = half_mask()

    def object_distance(run) -> torch.Tensor:
        alone = mask * run.param.foreground().detach() + (1 - mask) * GREY
        return distances(model, alone, objects)["conv1"]

    _, matched = match_in_outline(model, curves, mask, object_curves=objects, **common)
    _, plain = match_in_outline(model, curves, mask, **common)
    assert matched.param.batch == 4  # the object view is shown for its curves alone
    assert torch.all(object_distance(matched) < object_distance(plain))
    with pytest.raises(ValueError, match="batch"):
        match_in_outline(model, curves, mask, object_curves={"conv1": objects["conv1"].expand(3, -1, -1)}, **common)


def test_the_backdrops_curves_pull_the_backdrop_alone_towards_them(tiny_model):
    from stochvis.methods.distribution_matching import distances

    model = tiny_model
    torch.manual_seed(0)
    curves = {"conv1": torch.rand(2, 8, 4).sort(-1).values}
    backdrops = {"conv1": (2 * torch.rand(8, 4)).sort(-1).values}
    common = dict(foreground=P.fft, backdrop=P.fft, steps=30, seed=0, lr=0.1, jitter=0, strength=1.0)
    mask = half_mask()

    def backdrop_distance(run) -> torch.Tensor:
        return distances(model, run.param.backdrop().detach(), backdrops)["conv1"]

    _, matched = match_in_outline(model, curves, mask, backdrop_curves=backdrops, **common)
    _, plain = match_in_outline(model, curves, mask, **common)
    assert matched.param.views == ("composite", "backdrop") and matched.param.batch == 4
    assert torch.all(backdrop_distance(matched) < backdrop_distance(plain))
    _, both = match_in_outline(model, curves, mask, object_curves=backdrops, backdrop_curves=backdrops, **common)
    assert both.param.views == ("composite", "object", "backdrop") and both.param.batch == 6
    with pytest.raises(ValueError, match="batch"):
        match_in_outline(model, curves, mask, backdrop_curves={"conv1": backdrops["conv1"].expand(3, -1, -1)},
                         **common)


def test_image_priors_act_on_the_whole_images_only(tiny_model):
    from stochvis.optvis import regularizers as R

    model = tiny_model
    torch.manual_seed(0)
    curves = {"conv1": torch.rand(2, 8, 4).sort(-1).values}
    common = dict(foreground=P.fft, backdrop=P.fft, steps=30, seed=0, lr=0.1, jitter=0, strength=0.1,
                  object_objective=O.class_logit([0, 1]))
    mask = half_mask()
    flat = torch.full((3, 8), 1e-3)  # a near-flat target: the prior asks for no detail at all
    _, plain = match_in_outline(model, curves, mask, **common)
    _, calm = match_in_outline(model, curves, mask, penalties=[R.SpectrumMatch(10.0, flat)], **common)
    detail = lambda x: R.ring_amplitudes(x).mean((1, 2))  # noqa: E731
    assert torch.all(detail(calm.param.composites().detach()) < 0.5 * detail(plain.param.composites().detach()))
    assert calm.param.batch == 4  # the object view is still there ...
    # ... and the prior scores the two whole images only: one target per image of the mask is accepted (on all
    # four rows it would be refused)
    match_in_outline(model, curves, mask, penalties=[R.SpectrumMatch(10.0, flat.expand(2, -1, -1))],
                     **{**common, "steps": 1})
    with pytest.raises(ValueError, match="2 per-image targets for a batch of 4"):
        R.SpectrumMatch(10.0, flat.expand(2, -1, -1))(calm.param().detach())


def test_object_penalties_act_on_the_object_alone_and_leave_the_backdrop(tiny_model):
    from stochvis.optvis import regularizers as R

    model = tiny_model
    curves = {"conv1": torch.rand(2, 8, 4, generator=torch.Generator().manual_seed(0)).sort(-1).values}
    common = dict(foreground=P.fft, backdrop=P.fft, steps=20, seed=0, lr=0.1, jitter=0, strength=0.1)
    mask = half_mask()

    def object_roughness(run) -> torch.Tensor:
        front = run.param.foreground().detach()[..., :8]  # inside the outline
        return (front[..., 1:, :] - front[..., :-1, :]).abs().mean() + (front[..., 1:] - front[..., :-1]).abs().mean()

    _, smoothed = match_in_outline(model, curves, mask, object_penalties=[R.total_variation(50.0)], **common)
    _, plain = match_in_outline(model, curves, mask, **common)
    assert smoothed.param.views == ("composite", "object") and smoothed.param.batch == 4  # its view, asked for it
    assert object_roughness(smoothed) < 0.5 * object_roughness(plain)
    seen = []

    class Recording(R.Penalty):
        weight = 1.0

        def __call__(self, images: torch.Tensor) -> torch.Tensor:
            seen.append(images.detach().clone())
            return images.new_zeros(images.shape[0])

    _, run = match_in_outline(model, curves, mask, object_penalties=[Recording()], **{**common, "steps": 1})
    assert seen[0].shape == (2, 3, 16, 16) and torch.all(seen[0][..., 8:] == GREY)  # the object on grey, no backdrop
