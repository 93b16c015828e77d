"""Objectives: values on known activations, arithmetic, per-image targets, validation errors."""

from __future__ import annotations

import pytest
import torch

from stochvis.layers import capture
from stochvis.models import LOGITS
from stochvis.optvis import objectives as O


@pytest.fixture
def acts() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return {"a": torch.randn(3, 4, 5, 6, generator=generator), LOGITS: torch.randn(3, 5, generator=generator)}


def test_channel_neuron_layer_class_values(acts):
    a = acts["a"]
    assert torch.allclose(O.channel("a", 2)(acts), a[:, 2].mean((1, 2)))
    assert torch.equal(O.neuron("a", 1)(acts), a[:, 1, 2, 3])  # centre of 5×6
    assert torch.equal(O.neuron("a", 1, y=0, x=5)(acts), a[:, 1, 0, 5])
    assert torch.allclose(O.layer_norm("a")(acts), a.pow(2).flatten(1).mean(1))
    assert torch.equal(O.class_logit(4)(acts), acts[LOGITS][:, 4])
    assert torch.allclose(O.class_probability(4)(acts), acts[LOGITS].softmax(1)[:, 4])


def test_per_image_targets(acts):
    assert torch.equal(O.class_logit([0, 3, 1])(acts), acts[LOGITS][[0, 1, 2], [0, 3, 1]])
    assert torch.allclose(O.channel("a", [3, 0, 2])(acts), torch.stack([acts["a"][i, c].mean() for i, c in enumerate([3, 0, 2])]))
    with pytest.raises(ValueError, match="2 class targets for a batch of 3"):
        O.class_logit([0, 1])(acts)


def test_arithmetic(acts):
    a, b = O.channel("a", 0), O.class_logit(1)
    va, vb = a(acts), b(acts)
    assert torch.allclose((a + b)(acts), va + vb)
    assert torch.allclose((a - b)(acts), va - vb)
    assert torch.allclose((2 * a - 0.5 * b)(acts), 2 * va - 0.5 * vb)
    assert torch.allclose((-a)(acts), -va)
    assert torch.allclose((a / 4)(acts), va / 4)
    assert torch.allclose((a + 1.5)(acts), va + 1.5)
    assert torch.allclose(sum([a, b, a])(acts), 2 * va + vb)
    assert (a + b).layers == {"a", LOGITS}
    assert [leaf.name for leaf in (a - 2 * b).leaves()] == [a.name, b.name]


def test_direction_and_diversity(acts):
    vec = torch.tensor([1.0, 0, 0, 0])
    assert torch.allclose(O.direction("a", vec * 3)(acts), acts["a"][:, 0].mean((1, 2)))
    same = {"a": acts["a"][:1].expand(3, -1, -1, -1)}
    assert torch.allclose(O.diversity("a")(same), torch.full((3,), -1.0), atol=1e-5)  # identical images: least diverse
    assert (O.diversity("a")(acts) > -1.0).all()


def test_direction_per_image_and_shape_check(acts):
    vecs = torch.eye(4)[:3]
    assert torch.allclose(O.direction("a", vecs)(acts), torch.stack([acts["a"][i, i].mean() for i in range(3)]))
    with pytest.raises(ValueError, match="does not fit"):
        O.direction("a", torch.ones(7))(acts)


def test_bind_resolves_class_names_and_validates(tiny_model):
    bound = O.class_logit(["class3", "class1"]).bind(tiny_model)
    assert bound.classes == [3, 1]
    with pytest.raises(RuntimeError, match="bind"):
        O.class_logit("class3")({LOGITS: torch.zeros(1, 5)})
    with pytest.raises(KeyError, match="no class 'zebra'"):
        O.class_logit("zebra").bind(tiny_model)
    with pytest.raises(IndexError, match="classes 0..4"):
        O.class_probability(7).bind(tiny_model)
    with pytest.raises(IndexError, match="channels 0..7"):
        O.channel("conv1", 8).bind(tiny_model)
    with pytest.raises(KeyError, match="no layer 'conv9'"):
        (O.channel("conv1", 0) + O.channel("conv9", 0)).bind(tiny_model)


def test_truncated_forward_equals_full_forward_at_the_read_layer(tiny_model, tiny_images):
    objective = O.channel("conv2", 5)
    truncated = capture(tiny_model, tiny_images, sorted(objective.layers))
    full = capture(tiny_model, tiny_images, sorted(objective.layers), stop_early=False)
    assert torch.equal(objective(truncated), objective(full))
    # and equals evaluating the module by hand
    features = tiny_model.net.features
    by_hand = features[:4](tiny_model.normalize(tiny_images))[:, 5].mean((1, 2))
    assert torch.allclose(objective(truncated), by_hand, atol=1e-6)
    assert torch.allclose(O.evaluate(tiny_model, objective, tiny_images), by_hand, atol=1e-6)


def test_as_objective_is_the_one_target_parser(tiny_model, tiny_images):
    """Attribution and optimisation read a target through as_objective: same unit, same name, same checks."""
    from stochvis import attribution as G

    for target, name in [(2, "class 2 (class2)"), (("conv3", 1), "conv3 channel 1"),
                         (("conv2", 0, (3, 4)), "conv2 channel 0 at (y=3, x=4)")]:
        bound = O.as_objective(target).bind(tiny_model)
        assert bound.name == name
        result = G.gradient(tiny_model, tiny_images, target)
        assert result.target == name
        torch.testing.assert_close(result.scores, bound.scores(tiny_model, tiny_images).detach())
    by_objective = G.gradient(tiny_model, tiny_images, O.channel("conv3", 1)).gradient
    torch.testing.assert_close(by_objective, G.gradient(tiny_model, tiny_images, ("conv3", 1)).gradient)
    with pytest.raises(TypeError, match="unsupported target"):
        O.as_objective(True)
    with pytest.raises(ValueError, match=r"\(layer, channel, y, x\)"):
        O.as_objective(("conv3", 1, 2)).bind(tiny_model)


def test_an_objective_gives_one_score_per_image(acts):
    with pytest.raises(ValueError, match=r"one score per image, shape \(3,\); got \(2,\)"):
        O.Objective(lambda a: a["a"][:2, 0, 0, 0], ["a"], "two")(acts)
    assert O.Objective(lambda a: a["a"].sum(), ["a"], "one")(acts).shape == (1,)  # one score for the batch


def test_class_set_evidence_is_the_set_log_probability_capped(tiny_model):
    logits = torch.tensor([[2.0, 0.0, 0.0, -1.0, 1.0], [0.0, 0.0, 0.0, 0.0, 0.0]], requires_grad=True)
    acts = {LOGITS: logits}
    log_mass = (logits.softmax(1)[:, [0, 4]].sum(1)).log()
    uncapped = O.class_set_evidence([0, 4], 1.0).bind(tiny_model)(acts)
    assert torch.allclose(uncapped, log_mass)
    assert torch.allclose(O.class_set_logit([0, 4]).bind(tiny_model)(acts), logits[:, [0, 4]].logsumexp(1))
    # image 0 holds mass 0.79 on the set, image 1 0.4: a cap of 0.5 flattens the first only
    capped = O.class_set_evidence([0, 4], 0.5).bind(tiny_model)(acts)
    assert capped[0].item() == pytest.approx(torch.tensor(0.5).log().item())
    assert capped[1].item() == pytest.approx(log_mass[1].item())
    capped.sum().backward()
    assert torch.all(logits.grad[0] == 0) and logits.grad[1].abs().sum() > 0
    per_image = O.class_set_evidence([[0, 4], [1]], [0.3, 0.9]).bind(tiny_model)(acts)
    assert per_image.tolist() == pytest.approx([torch.tensor(0.3).log().item(), logits.softmax(1)[1, 1].log().item()])
    for bad in (0.0, 1.5, [0.5, -1]):
        with pytest.raises(ValueError, match=r"probability mass in \(0, 1\]"):
            O.class_set_evidence([0], bad)
    with pytest.raises(ValueError, match="3 ceilings for a batch of 2"):
        O.class_set_evidence([0], [0.5, 0.5, 0.5]).bind(tiny_model)(acts)
