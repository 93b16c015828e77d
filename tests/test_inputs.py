"""Bad input never gives a wrong answer quietly: the image gate, grey models, statistics misuse,
reused modules, labels and settings (one test per case of the input-robustness issue)."""

from __future__ import annotations

import json
import struct
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from stochvis import attribution as G
from stochvis import layers
from stochvis.data import ImageSet
from stochvis.inputs import check_images
from stochvis.methods.class_prior import statistics_prior
from stochvis.methods.deconvolution import stochastic_deconvolution
from stochvis.methods.inversion import invert
from stochvis.models import wrap_model
from stochvis.optvis import objectives as O
from stochvis.optvis import presets
from stochvis.optvis.optimize import optimize
from stochvis.stats import collection as C
from stochvis.stats.density import GaussianDensity
from stochvis.stats.moments import StatisticsFileError
from stochvis.stats.store import Statistics
from tests.conftest import make_tiny


def grey_model(seed: int = 0):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    return wrap_model(net, mean=(0.5,), std=(0.25,), input_size=16, classes=["a", "b"], name="grey",
                      aliases={"conv1": "1", "conv2": "3"}, device="cpu")


def labelled(n: int = 12, channels: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, channels, 16, 16, generator=generator), torch.arange(n) % 2


# -- 1. the gate ------------------------------------------------------------------------------

def test_uint8_images_give_the_float_answer_in_capture_and_gradients(tiny_model, tiny_images):
    as_bytes = (tiny_images * 255).round().to(torch.uint8)
    exact = as_bytes.float() / 255
    expected = layers.capture(tiny_model, exact, ["logits"])["logits"]
    torch.testing.assert_close(layers.capture(tiny_model, as_bytes, ["logits"])["logits"], expected)
    torch.testing.assert_close(G.gradient(tiny_model, as_bytes, 1).gradient, G.gradient(tiny_model, exact, 1).gradient)


def test_gate_converts_the_unambiguous(tiny_model, tiny_images):
    out = check_images(tiny_model, tiny_images[0].double().numpy())  # numpy, float64, (C, H, W)
    assert out.shape == (1, 3, 16, 16) and out.dtype == torch.float32
    assert check_images(tiny_model, (tiny_images + 5e-4).clamp(max=1.0005)).shape == tiny_images.shape  # tolerance
    grey = tiny_images[:, :1]
    assert check_images(tiny_model, grey, grey_to_rgb=True).shape == tiny_images.shape


@pytest.mark.parametrize("make, words", [
    (lambda x: x * 255, "0..255"),
    (lambda x: (x - 0.45) / 0.225, "normalised"),
    (lambda x: torch.cat([x, x[:, :1]], 1), "RGBA"),
    (lambda x: x.permute(0, 2, 3, 1), "channels-last"),
    (lambda x: x[:, :1], "grey_to_rgb=True"),
    (lambda x: (x * 255).long(), "int64"),
])
def test_gate_refuses_with_a_sentence(tiny_model, tiny_images, make, words):
    bad = make(tiny_images)
    with pytest.raises((ValueError, TypeError), match=words):
        layers.capture(tiny_model, bad, ["conv1"])


def test_gate_names_the_first_non_finite_image(tiny_model, tiny_images):
    bad = tiny_images.clone()
    bad[2, 0, 3, 3] = float("nan")
    with pytest.raises(ValueError, match="image 2 contains NaN"):
        G.gradient(tiny_model, bad, 0)


# -- 2. grey models on every path -------------------------------------------------------------

@pytest.mark.parametrize("name", ["simonyan2013", "yosinski2015", "olah2017"])
def test_presets_run_on_a_grey_model_without_a_param(name):
    result = presets.run(name, grey_model(), O.channel("conv2", 1), steps=2, size=16, progress=False)
    assert result.images.shape == (1, 1, 16, 16)


def test_default_imagenet_normalisation_on_a_grey_network_names_mean_and_std():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten())
    with pytest.raises(ValueError, match=r"mean=.*std="):
        wrap_model(net, device="cpu")
    with pytest.raises(ValueError, match="mean="):
        wrap_model(net, in_channels=1, device="cpu")


def test_grey_statistics_deconvolution_and_imageset_collection():
    model = grey_model()
    images, labels = labelled(12, channels=1)
    stats = C.collect_classes(model, (images, labels), ["conv2"], progress=False)
    result = stochastic_deconvolution(model, stats["0"], "conv2", n=2, steps=2)
    assert result.images.shape == (2, 1, 16, 16)
    from PIL import Image

    pictures = [Image.fromarray((np.random.default_rng(i).random((20, 20, 3)) * 255).astype(np.uint8)) for i in range(4)]
    image_set = ImageSet(pictures, [0, 1, 0, 1], ["a", "b"], "photos")
    per_class = C.collect_classes(model, image_set, ["conv2"], image_size=16, progress=False)
    assert per_class["a"].count == 2 and per_class["a"].meta["image_size"] == [16, 16]


# -- 3. statistics cannot be misused ----------------------------------------------------------

def _rewrite_metadata(path, edit) -> None:
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    meta = json.loads(header["__metadata__"]["stochvis"])
    edit(meta)
    header["__metadata__"]["stochvis"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + length:])


@pytest.fixture
def saved_stats(tmp_path, tiny_model):
    images, labels = labelled(12)
    stats = C.collect_classes(tiny_model, (images, labels), ["conv3"], progress=False)["0"]
    return stats.save(tmp_path / "stats.safetensors")


@pytest.mark.parametrize("edit", [
    lambda m: m.update(fingerprint="0" * 16),
    lambda m: m.update(count=1000),
    lambda m: m.update(image_size=[999, 7]),
    lambda m: m["plan"].pop("pooled"),
], ids=["fingerprint", "count", "image_size", "plan"])
def test_edited_metadata_is_refused(saved_stats, edit):
    _rewrite_metadata(saved_stats, edit)
    with pytest.raises(StatisticsFileError, match="metadata"):
        Statistics.load(saved_stats)


def test_files_from_before_the_metadata_hash_load_with_a_warning(saved_stats):
    _rewrite_metadata(saved_stats, lambda m: m.pop("metadata_sha256"))
    with pytest.warns(UserWarning, match="predates the metadata hash"):
        assert Statistics.load(saved_stats).count == 6


def test_statistics_of_another_model_are_refused_wherever_used(saved_stats, tiny_model):
    stats = Statistics.load(saved_stats)
    other = make_tiny(seed=1)
    with pytest.raises(ValueError, match="allow_other_model"):
        stochastic_deconvolution(other, stats, "conv3", n=1, steps=1)
    with pytest.raises(ValueError, match="allow_other_model"):
        optimize(other, O.channel("conv3", 0) + statistics_prior(stats, "conv3"), steps=1, size=16, progress=False)
    with pytest.raises(ValueError, match="allow_other_model"):
        invert(other, {"conv3/pooled": torch.ones(1, 16)}, stats=stats, steps=1)
    result = stochastic_deconvolution(other, stats, "conv3", n=1, steps=1, allow_other_model=True)
    assert result.images.shape[0] == 1


@pytest.mark.filterwarnings("ignore:.*zero variance")
def test_degenerate_statistics_refuse_or_warn_with_the_numbers(tiny_model, tiny_images):
    one = C.collect(tiny_model, tiny_images[:1], ["conv3"], progress=False)
    with pytest.raises(ValueError, match="1 image"):
        statistics_prior(one, "conv3")
    with pytest.raises(ValueError, match="1 image"):
        stochastic_deconvolution(tiny_model, one, "conv3", n=1, steps=1)
    few = C.collect(tiny_model, tiny_images, ["conv3"], progress=False)  # 4 images, 16 dimensions
    with pytest.warns(UserWarning, match="4 images for 16 dimensions"):
        GaussianDensity.from_stats(few["conv3/pooled"], shrinkage=None)


# -- 4. NaN / Inf images in collection ---------------------------------------------------------

def test_collect_names_the_first_non_finite_image_across_batches(tiny_model):
    images = torch.rand(6, 3, 16, 16)
    images[4, 1, 0, 0] = float("inf")
    with pytest.raises(ValueError, match="image 4 contains Inf"):
        C.collect(tiny_model, images, ["conv3"], batch_size=2, progress=False)


# -- 5. a module called twice -----------------------------------------------------------------

class TwiceReLU(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        return self.head(x.mean((2, 3)))


def test_a_reused_module_is_addressed_by_call(tiny_images):
    torch.manual_seed(0)
    model = wrap_model(TwiceReLU(), mean=(0.5,) * 3, std=(0.25,) * 3, input_size=16, device="cpu")
    with pytest.raises(ValueError, match=r"called 2 times.*relu#0, relu#1"):
        layers.capture(model, tiny_images, ["relu"])
    with pytest.raises(ValueError, match="relu#1"):
        layers.capture(model, tiny_images, ["relu", "conv2"])
    first = torch.relu(model.net.conv1(model.normalize(tiny_images)))
    second = torch.relu(model.net.conv2(first))
    alone = layers.capture(model, tiny_images, ["relu#0"])["relu#0"]
    both = layers.capture(model, tiny_images, ["relu#0", "relu#1", "conv2"])
    torch.testing.assert_close(alone, first)
    torch.testing.assert_close(both["relu#0"], first)
    torch.testing.assert_close(both["relu#1"], second)
    with pytest.raises(IndexError, match="relu#0, relu#1"):
        layers.capture(model, tiny_images, ["relu#2"])


# -- 6. labels ---------------------------------------------------------------------------------

def test_collect_classes_refuses_bad_labels(tiny_model):
    images, labels = labelled(6)
    with pytest.raises(ValueError, match="negative"):
        C.collect_classes(tiny_model, (images, torch.tensor([0, 1, -1, 0, 1, 0])), ["conv3"], classes=["a", "b"],
                          progress=False)
    with pytest.raises(ValueError, match="5 labels for 6 images"):
        C.collect_classes(tiny_model, [(images, labels[:5])], ["conv3"], progress=False)
    with pytest.raises(TypeError, match="integers"):
        C.collect_classes(tiny_model, (images, labels.float()), ["conv3"], progress=False)
    image_set = ImageSet([object()] * 2, [0, 1], ["Coat", "Shirt"], "clothes")
    with pytest.raises(KeyError, match="Coat, Shirt"):
        image_set.of_class("Cot")


# -- 7. rough edges ---------------------------------------------------------------------------

def test_optimize_takes_attribution_targets(tiny_model):
    for target in (("conv3", 1), 2, "class3"):
        result = optimize(tiny_model, target, steps=2, size=16, progress=False)
        assert result.history.shape == (2, 1)
    images = torch.rand(1, 3, 16, 16)
    for target in (("conv3", 1), 2):  # attribution's scores are the objective's: one parser, one unit
        score = G.gradient(tiny_model, images, target).scores
        bound = O.as_objective(target).bind(tiny_model)
        torch.testing.assert_close(bound(layers.capture(tiny_model, images, sorted(bound.layers))), score)
    result = presets.run("simonyan2013", tiny_model, ("conv3", 1), steps=2, size=16, progress=False)
    assert result.images.shape == (1, 3, 16, 16)


@pytest.mark.parametrize("options, words", [
    (dict(steps=2.5), "steps"), (dict(batch=0), "batch"), (dict(size=0), "size"), (dict(lr=0), "lr"),
])
def test_optimize_refuses_settings(tiny_model, options, words):
    with pytest.raises(ValueError, match=words):
        optimize(tiny_model, O.channel("conv3", 0), progress=False, **{"steps": 2, **options})


def test_rough_edges_say_what_is_valid(tiny_model, tiny_images):
    assert wrap_model(nn.Conv2d(3, 2, 1), input_size=64, device="cpu").input_size == (64, 64)
    with pytest.raises(ValueError, match="batch=3"):
        optimize(tiny_model, O.class_logit([0, 1, 2]), steps=1, size=16, progress=False)
    with pytest.raises(TypeError, match="1.7"):
        O.channel("conv3", 1.7)
    with pytest.raises(TypeError, match="1.7"):
        G.gradient(tiny_model, tiny_images, ("conv3", 1.7))
    with pytest.raises(ValueError, match="positive integer"):
        stochastic_deconvolution(tiny_model, C.collect(tiny_model, tiny_images, ["conv3"], progress=False), "conv3",
                                 n=-1)


def test_unwritable_stochvis_home_is_named_and_cached_collection_keeps_its_result(tmp_path, monkeypatch, tiny_model):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("STOCHVIS_HOME", str(blocker / "home"))
    from stochvis import assets

    with pytest.raises(PermissionError, match="STOCHVIS_HOME"):
        assets.home()
    images, labels = labelled(4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = C.collect_classes_cached(tiny_model, (images, labels), ["conv3"], name="x",
                                          directory=blocker / "stats", progress=False)
    assert set(result) == {"0", "1"} and result["0"].count == 2
    assert any("STOCHVIS_HOME" in str(w.message) for w in caught)


def test_rgba_is_composited_on_white_never_dropped():
    from PIL import Image

    from stochvis.inputs import ALPHA_BACKGROUND, composite_alpha, pil_rgb

    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red
    rgba[0, 1] = (0, 0, 255, 0)  # fully transparent blue: shows the background, not blue
    rgba[1, :] = (0, 0, 0, 128)  # half-transparent black
    rgb = np.asarray(pil_rgb(Image.fromarray(rgba, "RGBA")))
    assert ALPHA_BACKGROUND == (255, 255, 255)
    assert tuple(rgb[0, 0]) == (255, 0, 0) and tuple(rgb[0, 1]) == (255, 255, 255)
    assert abs(int(rgb[1, 0, 0]) - 127) <= 1  # black at 50% over white
    tensor = torch.from_numpy(rgba).permute(2, 0, 1)
    composed = composite_alpha(tensor)
    assert composed.shape == (1, 3, 2, 2) and torch.allclose(composed[0, :, 0, 1], torch.ones(3))
    assert torch.allclose(composite_alpha(tensor, background=0.0)[0, :, 0, 1], torch.zeros(3))
    with pytest.raises(ValueError, match="composite_alpha"):
        check_images(make_tiny(), torch.rand(1, 4, 16, 16))  # RGBA at the gate: refused, the fix named
