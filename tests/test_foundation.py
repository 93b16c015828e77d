"""The foundation: set-up files agree, the torchvision guard, the model zoo, layer access, data."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import tomllib
import torch
from PIL import Image

import stochvis
from stochvis import assets, data, layers, models

ROOT = Path(__file__).resolve().parent.parent


def _requirement_names(requirements) -> dict[str, str]:
    pins = {}
    for line in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_environment_yml_and_pyproject_list_the_same_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pyproject = _requirement_names(project["dependencies"] + project["optional-dependencies"]["notebooks"])
    yml_lines = [line.strip()[2:] for line in (ROOT / "environment.yml").read_text().splitlines()
                 if line.strip().startswith("- ") and "==" in line]
    environment = _requirement_names(yml_lines)
    assert pyproject == environment
    assert pyproject["torch"] == "2.13.0"


def test_every_dependency_is_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    everything = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    assert all("==" in requirement for requirement in everything), everything


def test_asset_wheels_in_pyproject_match_the_registry():
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["stochvis"]["asset-wheels"]
    assert sorted(listed) == sorted({a.requirement for a in assets.ASSETS.values()})


def test_torchvision_imports_and_the_guard_only_acts_when_needed():
    import torchvision
    from torchvision.transforms import v2  # noqa: F401

    from stochvis import _torchvision_guard

    assert torchvision.__version__.startswith("0.28")
    native = _torchvision_guard._native_ops_load(Path(torchvision.__file__).parent)
    assert _torchvision_guard.guard_installed is (not native)


def test_assets_are_cached_and_verified(tmp_path, monkeypatch):
    path = assets.fetch("mnist_5k")
    assert assets.sha256_of(path) == assets.ASSETS["mnist_5k"].sha256
    with pytest.raises(KeyError, match="known:"):
        assets.fetch("no_such_asset")


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "file.bin"
    assets.atomic_write_bytes(target, b"abc")
    assert target.read_bytes() == b"abc"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


# -- wrapping and layers ----------------------------------------------------------------------

def test_wrapped_model_normalises_inside(tiny_model, tiny_images):
    raw = tiny_model.net((tiny_images - 0.5) / 0.25)
    assert torch.allclose(tiny_model(tiny_images), raw)


def test_wrapping_turns_inplace_relus_off(tiny_model):
    assert set(tiny_model.rerouted_inplace) == {"features.1", "features.3", "features.6"}
    assert not any(getattr(m, "inplace", False) for m in tiny_model.net.modules())


def test_fingerprint_changes_with_weights():
    from conftest import make_tiny

    assert make_tiny(0).fingerprint == make_tiny(0).fingerprint
    assert make_tiny(0).fingerprint != make_tiny(1).fingerprint


def test_capture_stops_after_the_deepest_layer(tiny_model, tiny_images):
    called = []
    handle = tiny_model.net.classifier.register_forward_hook(lambda *_: called.append(True))
    try:
        acts = layers.capture(tiny_model, tiny_images, ["conv1", "pool1"])
    finally:
        handle.remove()
    assert not called, "the forward pass went past the deepest requested layer"
    assert acts["conv1"].shape == (4, 8, 16, 16) and acts["pool1"].shape == (4, 8, 8, 8)
    assert (acts["conv1"] >= 0).all()  # conv1 is the ReLU output


def test_truncated_forward_equals_full_forward(tiny_model, tiny_images):
    store = {}
    handle = tiny_model.module("conv3").register_forward_hook(lambda m, i, o: store.setdefault("x", o.clone()))
    try:
        full = tiny_model(tiny_images)
    finally:
        handle.remove()
    truncated = layers.forward_to(tiny_model, tiny_images, "conv3")
    assert torch.equal(truncated, store["x"])
    assert torch.equal(layers.capture(tiny_model, tiny_images, ["logits"])["logits"], full)


def test_gradients_flow_through_captured_layers(tiny_model, tiny_images):
    x = tiny_images.clone().requires_grad_(True)
    layers.forward_to(tiny_model, x, "conv3")[:, 2].mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_unknown_layer_names_the_closest_ones(tiny_model, tiny_images):
    with pytest.raises(KeyError, match="conv1"):
        layers.capture(tiny_model, tiny_images, ["conv_1"])


def test_channel_and_class_errors_name_the_valid_range(tiny_model):
    with pytest.raises(IndexError, match=r"0\.\.7"):
        layers.check_channel(tiny_model, "conv1", 8)
    with pytest.raises(IndexError, match=r"0\.\.4"):
        tiny_model.check_class(5)
    with pytest.raises(KeyError, match="class0"):
        tiny_model.class_index("klass0")
    assert tiny_model.class_index("CLASS3") == 3


def test_list_layers_has_shapes_in_execution_order(tiny_model):
    infos = layers.list_layers(tiny_model)
    names = [i.name for i in infos]
    assert names.index("conv1") < names.index("pool1") < names.index("conv3") < names.index("classifier")
    by_name = {i.name: i for i in infos}
    assert by_name["conv3"].shape == (16, 8, 8)
    assert by_name["classifier"].shape == (5,)


def test_wrap_model_accepts_any_module():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.LazyLinear(2))
    net(torch.zeros(1, 3, 8, 8))
    model = models.wrap_model(net, input_size=(8, 8), device="cpu")
    assert [i.path for i in layers.list_layers(model)][:2] == ["0", "1"]
    assert layers.forward_to(model, torch.rand(2, 3, 8, 8), "1").shape == (2, 4, 6, 6)


def test_unknown_model_lists_the_zoo():
    with pytest.raises(KeyError, match="efficientnet_lite0"):
        models.load_model("efficientnet_lite9")


# -- the real zoo (pretrained weights from registry packages) -----------------------------------

@pytest.fixture(scope="module")
def foolbox_photos():
    return data.foolbox_imagenet()


@pytest.fixture(scope="module")
def vgg16():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return models.load_model("vgg16", device="cpu")


def test_efficientnet_lite0_classifies_the_foolbox_photos(foolbox_photos):
    model = models.load_model("efficientnet_lite0", device="cpu")
    images, labels = foolbox_photos.tensors(model.preprocess)
    assert images.shape == (20, 3, 224, 224)
    with torch.no_grad():
        top1 = model(images).argmax(1)
    assert (top1 == labels).sum().item() >= 17
    assert model.classes[labels[0]] and len(model.classes) == 1000


def test_vgg16_has_the_published_imagenet_conv_weights(vgg16):
    # conv1_1 biases of the published VGG16 (Simonyan & Zisserman) weights, as shipped by Keras/Caffe.
    expected = torch.tensor([0.73429835, 0.09340449, 0.06775664, 0.8862842, 0.25994647])
    assert torch.allclose(vgg16.module("conv1_1_pre").bias[:5].cpu(), expected, atol=1e-4)
    assert vgg16.input_size == (224, 224)
    if vgg16.classes is None:
        assert "logits" not in vgg16.aliases


def test_vgg16_features_are_mirror_invariant_and_tell_photos_apart(vgg16):
    photos = data.skimage_photos(["chelsea", "coffee", "astronaut", "rocket"])
    images, _ = photos.tensors(vgg16.preprocess)
    with torch.no_grad():
        pooled = layers.forward_to(vgg16, images, "conv5_3").mean((2, 3))
        mirrored = layers.forward_to(vgg16, images.flip(3), "conv5_3").mean((2, 3))
    cosine = torch.nn.functional.cosine_similarity
    same = cosine(pooled, mirrored).min().item()
    different = cosine(pooled, pooled.roll(1, 0)).max().item()
    assert same > 0.9 and different < 0.6 and same - different > 0.3


# -- data ---------------------------------------------------------------------------------------

def test_image_folder_skips_unreadable_files_with_one_warning(tmp_path):
    for cls in ("cats", "dogs"):
        (tmp_path / cls).mkdir()
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / cls / "a.png")
        (tmp_path / cls / "broken.jpg").write_bytes(b"not an image")
    with pytest.warns(UserWarning, match="skipped 1 unreadable") as record:
        found = data.image_folder(tmp_path)
    assert len(found) == 2 and found.classes == ["cats", "dogs"]
    assert len(record) == 2  # one per class folder scanned, each counting its own


def test_empty_image_folder_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no readable images"):
        data.image_folder(tmp_path)


def test_fashion_mnist_and_mnist_load():
    images, labels = data.fashion_mnist("test")
    assert images.shape == (10000, 1, 28, 28) and images.dtype == torch.uint8
    assert sorted(labels.unique().tolist()) == list(range(10))
    digits, digit_labels = data.mnist_5k()
    assert digits.shape == (5000, 1, 28, 28) and torch.bincount(digit_labels).tolist() == [500] * 10


def test_tuxpaint_cutouts_are_pasted_on_backgrounds():
    birds = data.tuxpaint(["birds"], size=64, seed=0)
    assert len(birds) == data.tuxpaint_categories()["birds"] >= 30
    image, label = birds[0]
    assert image.size == (64, 64) and label == 0
    again = data.tuxpaint(["birds"], size=64, seed=0)[0][0]
    assert np.array_equal(np.asarray(image), np.asarray(again))
    with pytest.raises(KeyError, match="flowers"):
        data.tuxpaint(["flower"])


def test_version():
    assert stochvis.__version__


def test_front_door_exposes_the_main_verbs_by_name():
    import stochvis
    from stochvis.models import load_model
    from stochvis.optvis.optimize import optimize

    assert stochvis.load_model is load_model and stochvis.optimize is optimize
    assert stochvis.objectives.class_logit is not None and stochvis.stats.collect_classes is stochvis.collect_classes
    for name in stochvis.__all__:
        assert getattr(stochvis, name) is not None, name
    with pytest.raises(AttributeError, match="load_model"):
        stochvis.load_modle  # noqa: B018 - a typo gets the list of what exists
