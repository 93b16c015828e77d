"""The front door: visualize(model, target) and class_samples(model, folder, cls) with any model and any images."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import stochvis
from stochvis import front
from stochvis.optvis import objectives as O
from stochvis.testing import TinyCNN, tiny_cnn, tiny_vit

VIT_BLOCK = "encoder.layers.encoder_layer_1"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """2 classes × 4 small PNGs (one of them RGBA), and a class with a single image."""
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for name, tint in (("cats", (1.0, 0.6, 0.3)), ("dogs", (0.3, 0.6, 1.0))):
        (root / name).mkdir()
        for i in range(4):
            pixels = (rng.random((24, 24, 3)) * np.array(tint) * 255).astype(np.uint8)
            image = Image.fromarray(pixels)
            if i == 0:
                image.putalpha(200)
            image.save(root / name / f"{i}.png")
    (root / "lonely").mkdir()
    Image.fromarray((rng.random((24, 24, 3)) * 255).astype(np.uint8)).save(root / "lonely" / "0.png")
    return root


def test_the_front_door_exports_both_verbs():
    assert stochvis.visualize is front.visualize and stochvis.class_samples is front.class_samples
    assert {"visualize", "class_samples"} <= set(stochvis.__all__)


def test_visualize_takes_any_model_form_and_every_target_form():
    vit = tiny_vit()
    vit.classes = ["cat", "dog", "fox", "owl", "bee"]
    targets = ["fox", 2, f"{VIT_BLOCK}:3", (VIT_BLOCK, 3), (VIT_BLOCK, 3, 1, 1), O.channel(VIT_BLOCK, 3)]
    for target in targets:
        result = front.visualize(vit, target, steps=2, size=40)
        assert result.images.shape == (1, 3, 40, 40) and result.settings["recipe"] == front.DEFAULT_RECIPE
    torch.manual_seed(0)
    for model in (TinyCNN(5), "stochvis.testing:tiny_cnn"):  # an nn.Module (wrapped) and package.module:callable
        result = front.visualize(model, "features.3:1", steps=2, size=32)
        assert result.objective == "features.3:1" and result.settings["seed"] == 0


def test_visualize_is_seeded_and_names_bad_inputs():
    model = tiny_cnn(size=32)
    first, again, other = (front.visualize(model, 1, steps=3, seed=s) for s in (5, 5, 6))
    assert torch.equal(first.images, again.images) and not torch.equal(first.images, other.images)
    assert first.settings["seed"] == 5
    assert front.visualize(model, 1, steps=2, recipe="garon2017", octaves=None).settings["recipe"] == "garon2017"
    with pytest.raises(KeyError, match="unknown recipe 'lucent'.*olah2017"):
        front.visualize(model, 1, recipe="lucent")
    with pytest.raises(KeyError, match="unknown model 'resnet-18'.*package.module:callable"):
        front.as_model("resnet-18")
    with pytest.raises(TypeError, match="WrappedModel, a torch.nn.Module"):
        front.as_model(42)


def test_the_chain_layers_are_the_deepest_at_one_sixteenth_and_one_eighth():
    from torchvision.models import resnet18

    from stochvis.models import wrap_model

    resnet = wrap_model(resnet18(num_classes=10), input_size=64, device="cpu")
    assert front.chain_layers(resnet) == ["layer3", "layer2"]
    assert front.chain_layers(tiny_cnn(size=64)) == ["features", "features.10"]  # stride 16 (4×4), stride 8 (8×8)
    assert front.chain_layers(tiny_vit()) == [VIT_BLOCK, "encoder.layers.encoder_layer_0"]  # tokens: last two blocks


def test_class_samples_from_a_folder_in_one_call(folder):
    model = tiny_cnn(size=32)
    samples = front.class_samples(model, folder, "cats", n=2, steps=3, seed=1)
    assert samples.images.shape == (2, 3, 32, 32) and samples.cls == "cats"
    assert samples.layers == ("features/grid2", "features.10/grid4")  # at 32 px: 2×2 and 4×4 maps, whole
    assert samples.statistics.count == 4 and samples.statistics.class_name == "cats"
    again = front.class_samples(model, folder, 1, n=2, steps=2, seed=1)  # by index: "dogs"
    assert again.cls == "dogs" and not torch.equal(again.images, samples.images)


def test_class_samples_on_a_vision_transformer(folder):
    vit = front.class_samples(tiny_vit(), folder, "dogs", n=1, steps=2)
    assert vit.images.shape == (1, 3, 32, 32) and vit.layers[0] == f"{VIT_BLOCK}/grid4"


def test_class_samples_refuses_what_it_cannot_sample(folder):
    model = tiny_cnn(size=32)
    with pytest.raises(ValueError, match="'lonely' .* has 1 image: class statistics need at least 2"):
        front.class_samples(model, folder, "lonely", steps=1)
    with pytest.raises(KeyError, match="no class 'birds'.*cats, dogs"):
        front.class_samples(model, folder, "birds", steps=1)
