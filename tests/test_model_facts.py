"""What wrap_model reads from a foreign module: the declared (fixed) input size, the classifier head, and the
smallest image it can read."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import stochvis  # noqa: F401  (the torchvision guard first)
from stochvis import model_facts
from stochvis.layers import capture
from stochvis.models import imagenet_classes, wrap_model
from stochvis.testing import TinyCNN, tiny_vit


@pytest.fixture(scope="module")
def resnet():
    from torchvision.models import resnet18

    torch.manual_seed(0)
    return wrap_model(resnet18(num_classes=1000), device="cpu")


def test_a_1000_way_head_gets_the_imagenet_names(resnet):
    assert resnet.classes == imagenet_classes() and resnet.class_index("starfish") == 327
    assert "1000 classes" in repr(resnet)


def test_class_names_follow_the_head_or_the_caller():
    torch.manual_seed(0)
    assert wrap_model(TinyCNN(5), input_size=32, device="cpu").classes == ["0", "1", "2", "3", "4"]
    assert wrap_model(TinyCNN(3), input_size=32, classes=list("abc"), device="cpu").class_index("b") == 1
    headless = wrap_model(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()), input_size=16, device="cpu")
    assert headless.classes is None  # maps out, not (N, K) scores
    with pytest.raises(ValueError, match="has no classifier head"):
        headless.check_class(0)
    with pytest.raises(ValueError, match="classes='imagenet'"):
        wrap_model(TinyCNN(5), input_size=32, classes="imagenet", device="cpu")


def test_a_fixed_size_transformer_is_resized_inside_the_forward():
    vit = tiny_vit()
    assert vit.input_size == (32, 32) and vit.fixed_size
    big = torch.rand(2, 3, 48, 40, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits = capture(vit, big, ["logits"])["logits"]  # torchvision alone: "Wrong image height!"
        expected = vit.net(vit.normalize(model_facts.resize_to(big, (32, 32))))
    assert torch.allclose(logits, expected, atol=1e-6)
    with pytest.raises(AssertionError, match="Wrong image height"):
        vit.net(torch.rand(1, 3, 48, 48))  # the module itself still insists
    with pytest.raises(ValueError, match="takes only"):
        wrap_model(vit.net, input_size=64, device="cpu")
    not_fixed = wrap_model(TinyCNN(5), input_size=32, device="cpu")
    assert not not_fixed.fixed_size


def test_images_below_the_minimum_are_refused_with_it(resnet):
    assert model_facts.total_stride(resnet) == 32 and model_facts.minimum_side(resnet) == 16  # 7×7 at 224
    for side in (8, 2):
        with pytest.raises(ValueError, match=r"below the 16×16 minimum .*half its total stride 32"):
            capture(resnet, torch.rand(1, 3, side, side), ["layer1"])
    capture(resnet, torch.rand(1, 3, 16, 16), ["layer1"])  # the minimum itself is read
    vit = tiny_vit()
    assert model_facts.total_stride(vit) == 8 and model_facts.minimum_side(vit) == 4  # 8-px patches
    with pytest.raises(ValueError, match=r"below the 4×4 minimum"):
        capture(vit, torch.rand(1, 3, 2, 2), ["logits"])
