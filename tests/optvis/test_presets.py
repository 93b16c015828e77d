"""Every preset takes every target form (class name, class index, "layer:channel", (layer, channel), an Objective) on a
tiny CNN and a tiny ViT; Garon's saturation inversion gets its classes from the target itself."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from stochvis.methods.generator_prior import GeneratorPrior
from stochvis.models import wrap_model
from stochvis.optvis import objectives as O
from stochvis.optvis import presets
from stochvis.optvis import regularizers as R
from stochvis.optvis.maco import measure_spectrum
from stochvis.testing import tiny_cnn, tiny_vit

CLASSES = ["cat", "dog", "fox", "owl", "bee"]
SIZE = 32


def _models():
    cnn, vit = tiny_cnn(size=SIZE), tiny_vit()
    cnn.classes = vit.classes = list(CLASSES)
    return {"cnn": (cnn, "features.3"), "vit": (vit, "encoder.layers.encoder_layer_1")}


MODELS = _models()


def _targets(layer: str) -> dict:
    return {"name": "fox", "index": 2, "layer:channel": f"{layer}:3", "tuple": (layer, 3),
            "objective": O.channel(layer, 3), "class objective": O.class_logit("owl")}


def _options(name: str) -> dict:
    images = torch.rand(4, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    if name == "fel2023":
        return {"spectrum": measure_spectrum(images, SIZE), "crops": 2}
    if name == "hamblin2024":
        return {"seed_images": images[:1]}
    if name == "nguyen2016":
        generator = nn.Sequential(nn.Linear(8, 3 * SIZE * SIZE), nn.Sigmoid(), nn.Unflatten(1, (3, SIZE, SIZE)))
        return {"prior": GeneratorPrior(generator, (8,), channels=3, size=(SIZE, SIZE))}
    return {}


@pytest.mark.parametrize("model_name", list(MODELS))
@pytest.mark.parametrize("preset", list(presets.PRESETS))
def test_every_preset_takes_every_target_form(model_name, preset):
    model, layer = MODELS[model_name]
    for form, target in _targets(layer).items():
        result = presets.run(preset, model, target, steps=2, size=SIZE, progress=False, **_options(preset))
        assert torch.isfinite(result.images).all(), (preset, form)
        assert result.images.shape[1:] == (3, SIZE, SIZE), (preset, form)


def test_saturation_inversion_watches_the_targets_class():
    model, layer = MODELS["cnn"]

    def inverter(target):
        regs = presets.config("garon2017", target)["regularizers"]
        found = [r for r in regs if isinstance(r, R.InvertWhenSaturated)]
        return found[0].setup(model, O.as_objective(target).bind(model)).classes if found else None

    assert inverter("fox") == [2] and inverter(3) == [3] and inverter(O.class_logit(["cat", "bee"])) == [0, 4]
    assert inverter((layer, 3)) is None and inverter(f"{layer}:3") is None  # channels: no class to watch
    assert inverter(("logits", 1)) is None  # a logit read as a unit, not as a class target


def test_garon2017_on_a_torchvision_resnet_by_name_and_index():
    from torchvision.models import resnet18  # stochvis (imported above) installed the torchvision guard

    torch.manual_seed(0)
    resnet = wrap_model(resnet18(num_classes=1000), device="cpu")  # ImageNet names from its 1000-way head
    for target in ("starfish", 327):
        result = presets.run("garon2017", resnet, target, steps=1, size=48, octaves=None, progress=False)
        assert result.objective == "class 327 (starfish)"
