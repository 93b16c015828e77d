"""The committed Fashion-MNIST models: they load by name, keep their recorded accuracy, the
generator inverts the subject's code, and training is reproducible bit for bit."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
import torch

from stochvis.data import FASHION_CLASSES, fashion_mnist
from stochvis.inputs import as_float_images
from stochvis.layers import capture, layer_shape, list_layers
from stochvis.worlds import fashion, fashion_looks, fashion_training


@pytest.fixture(scope="module")
def test_subset() -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = fashion_mnist("test")
    return as_float_images(images[:1000]), labels[:1000]


@pytest.fixture(scope="module")
def subject():
    return fashion.load_subject("cpu")


@pytest.mark.parametrize("name", ["fashion_subject", "fashion_judge", "fashion_judge2", "fashion_generator", "fashion_subject_modified",
                                  "fashion_generator_pool1", "fashion_generator_pool2", "fashion_generator_looks"])
def test_committed_files_match_their_records(name):
    info = fashion.weights_info(name)
    data = (fashion.WEIGHTS_DIR / f"{name}.safetensors").read_bytes()
    assert hashlib.sha256(data).hexdigest() == info["sha256"]
    assert len(data) < 4_000_000
    assert info["seed"] >= 0 and info["epochs"] >= 1 and info["minutes"] > 0


def test_load_by_name_from_a_fresh_process():
    code = ("from stochvis.models import load_model; import stochvis.worlds.fashion as f;"
            "s = load_model('fashion_subject', 'cpu'); j = load_model('fashion_judge', 'cpu'); g = f.load_generator('cpu');"
            "print(s.name, s.in_channels, s.input_size, len(s.classes), j.name, g.code_dim)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["fashion_subject", "1", "(28,", "28)", "10", "fashion_judge", "256"]


@pytest.mark.parametrize("name, floor", [("fashion_subject", 0.93), ("fashion_judge", 0.92), ("fashion_judge2", 0.88)])
def test_accuracy_on_a_test_subset_matches_the_record(name, floor, test_subset):
    loader = {"fashion_subject": fashion.load_subject, "fashion_judge": fashion.load_judge,
              "fashion_judge2": fashion.load_second_judge}[name]
    model = loader("cpu")
    recorded = fashion.weights_info(name)["test_accuracy"]  # on all 10k test images
    assert recorded >= floor
    measured = fashion_training.accuracy(model, *test_subset)  # 1000 images: ±1 point of sampling error
    assert measured >= max(floor - 0.03, recorded - 0.02), (measured, recorded)


def test_second_judge_is_a_mixer_with_pool_features(test_subset):
    from stochvis.evaluation.metrics import DEFAULT_FEATURE_LAYER, features

    judge2 = fashion.load_second_judge("cpu")
    info = fashion.weights_info("fashion_judge2")
    assert info["model"] == "FashionMixer" and isinstance(judge2.net, fashion.FashionMixer)
    assert judge2.name == "fashion_judge2" and judge2.classes == FASHION_CLASSES and judge2.in_channels == 1
    assert judge2.input_size == (28, 28)
    # no BatchNorm and no convolution but the patch cut: another family than subject and first judge
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in judge2.net.modules())
    assert [m.kernel_size for m in judge2.net.modules() if isinstance(m, torch.nn.Conv2d)] == [(4, 4)]
    assert sum(p.numel() for p in judge2.net.parameters()) == info["parameters"]
    # "pool": the penultimate features the realism measures read, 64 units (LayerNorm, mean over 49 tokens)
    assert DEFAULT_FEATURE_LAYER == "pool" and info["pool_dim"] == 64
    assert layer_shape(judge2, "pool") == (64,)
    assert layer_shape(judge2, "patches") == layer_shape(judge2, "mixer4") == (49, 64)
    names = [layer.name for layer in list_layers(judge2)]
    assert names.index("patches") < names.index("mixer1") < names.index("mixer4") < names.index("pool")
    images = test_subset[0][:300]
    feats = features(judge2, images)
    assert feats.shape == (300, 64) and torch.isfinite(feats).all() and feats.std(0).min() > 0
    out = capture(judge2, images[:4], ["pool", "logits"])
    assert torch.allclose(judge2.net.fc(out["pool"]), out["logits"], atol=1e-5)
    # the two judges are independent but both competent: they agree on most real images
    judge = fashion.load_judge("cpu")
    with torch.no_grad():
        agree = (judge(images).argmax(1) == judge2(images).argmax(1)).float().mean()
    assert agree > 0.85, agree


def test_token_mixing_is_the_transposed_linear_map():
    torch.manual_seed(0)
    block = fashion.MixerBlock(tokens=49, dim=8, token_hidden=16, channel_hidden=32)
    x = torch.randn(3, 49, 8)
    mlp = block.token_mlp
    mixed = mlp.fc2(mlp.act(mlp.fc1(block.norm1(x).transpose(1, 2)))).transpose(1, 2)
    expected = x + mixed
    expected = expected + block.channel_mlp(block.norm2(expected))
    assert torch.allclose(block(x), expected, atol=1e-6)
    with pytest.raises(ValueError, match="patch must divide 28"):
        fashion.FashionMixer(patch=5)


def test_layers_have_friendly_names_and_one_channel_input(subject):
    judge = fashion.load_judge("cpu")
    assert subject.classes == FASHION_CLASSES and subject.in_channels == 1
    assert layer_shape(subject, "conv1_1") == (32, 28, 28)
    assert layer_shape(subject, "conv3_2") == (128, 7, 7)
    assert layer_shape(subject, "fc1") == (256,)
    assert layer_shape(judge, "pool") == (512,)  # 128 channels average-pooled to 2×2
    names = [info.name for info in list_layers(judge)]
    assert names.index("stem") < names.index("block1") < names.index("block2") < names.index("pool")
    out = capture(subject, torch.rand(2, 1, 28, 28), ["conv2_2", "fc1", "logits"])
    assert (out["conv2_2"] >= 0).all() and (out["fc1"] >= 0).all() and out["logits"].shape == (2, 10)
    with pytest.raises(KeyError, match="conv"):
        layer_shape(subject, "conv4_1")
    # PIL images become grey 28×28 tensors, unchanged when already 28×28
    from PIL import Image

    grey = (torch.arange(28 * 28, dtype=torch.uint8).view(28, 28) % 251).numpy()
    tensor = subject.preprocess(Image.fromarray(grey).convert("RGB"))
    assert tensor.shape == (1, 28, 28)
    assert torch.allclose(tensor[0], torch.from_numpy(grey).float() / 255, atol=1 / 255)


def test_generator_inverts_the_subject_code(subject, test_subset):
    generator = fashion.load_generator("cpu")
    images = test_subset[0][:200]
    codes = capture(subject, images, ["fc1"])["fc1"]
    with torch.no_grad():
        rebuilt = generator(codes)
    assert rebuilt.shape == (200, 1, 28, 28)
    assert rebuilt.min() >= 0 and rebuilt.max() <= 1
    # far better than the best constant guess (the mean image)
    error = (rebuilt - images).pow(2).mean()
    baseline = (images.mean(0, keepdim=True) - images).pow(2).mean()
    assert error < 0.35 * baseline
    # the reconstruction keeps the class for the subject
    assert (subject(rebuilt).argmax(1) == subject(images).argmax(1)).float().mean() > 0.8
    # code statistics: fc1 is post-ReLU, so mean, std, max are >= 0 and the bound sits below the max on most units
    assert generator.code_mean.shape == (256,) and (generator.code_std >= 0).all()
    assert (generator.code_max >= generator.code_mean).all()
    with pytest.raises(ValueError, match=r"\(N, 256\)"):
        generator(torch.zeros(2, 10))


def test_early_generator_inverts_the_pool1_map(subject, test_subset):
    generator = fashion.load_generator("cpu", "fashion_generator_pool1")
    assert generator.code_shape == (32, 14, 14) and generator.code_mean.shape == (32 * 14 * 14,)
    images = test_subset[0][:200]
    codes = capture(subject, images, ["pool1"])["pool1"]
    with torch.no_grad():
        rebuilt, flat = generator(codes), generator(codes.flatten(1))
    assert torch.equal(rebuilt, flat)  # spatial or flattened codes, the same images
    error = (rebuilt - images).pow(2).mean()
    late = fashion.load_generator("cpu")(capture(subject, images, ["fc1"])["fc1"])
    middle = fashion.load_generator("cpu", "fashion_generator_pool2")
    assert middle.code_shape == (64, 7, 7)
    middle_error = (middle(capture(subject, images, ["pool2"])["pool2"]) - images).pow(2).mean()
    # an early map holds far more of the image than the 256-unit fc1 code; pool2 lies between
    assert error < 0.5 * (late - images).pow(2).mean()
    assert error < middle_error < (late - images).pow(2).mean()
    assert (generator.code_std >= 0).all() and (generator.code_max >= generator.code_mean).all()
    with pytest.raises(ValueError, match=r"\(N, 6272\) or \(N, 32, 14, 14\)"):
        generator(torch.zeros(2, 32, 7, 7))
    with pytest.raises(ValueError, match="power of two"):
        fashion.FashionConvGenerator((8, 12, 12))
    with pytest.raises(ValueError, match="valid: fashion_generator, fashion_generator_pool2, fashion_generator_pool1"):
        fashion.load_generator("cpu", "fashion_generator_fc2")


def test_only_the_generator_trained_on_all_looks_draws_inverted_images(subject, test_subset):
    from stochvis.evaluation.metrics import border_brightness

    inverted = fashion_looks.modify(test_subset[0][:200], "inverted")
    codes = capture(subject, inverted, ["fc1"])["fc1"]
    with torch.no_grad():
        normal_only = border_brightness(fashion.load_generator("cpu")(codes)).mean()
        all_looks = border_brightness(fashion.load_generator("cpu", "fashion_generator_looks")(codes)).mean()
    real = border_brightness(inverted).mean()  # about 0.9: a white frame
    assert all_looks > real - 0.2 and normal_only < 0.5, (normal_only, all_looks, real)
    assert "inverted" in fashion.weights_info("fashion_generator_looks")["data"]


def test_modified_looks_and_their_labels(test_subset):
    images, labels = test_subset[0][:300], test_subset[1][:300]
    assert torch.equal(fashion_looks.modify(images, "inverted"), 1 - images)
    from stochvis.evaluation.metrics import high_frequency_ratio

    blurred = fashion_looks.modify(images, "blurred")
    assert blurred.shape == images.shape
    assert high_frequency_ratio(blurred).mean() < 0.5 * high_frequency_ratio(images).mean()
    with pytest.raises(ValueError, match="valid: inverted, blurred"):
        fashion_looks.modify(images, "mosaic")
    x, y = fashion_looks.modified_dataset((images * 255).round().to(torch.uint8), labels, seed=0)
    kind = y // 10
    assert torch.equal(y % 10, labels) and set(kind.tolist()) == {0, 1, 2}
    assert torch.allclose(x[kind == 1], 1 - as_float_images((images * 255).round().to(torch.uint8))[kind == 1])
    assert fashion_looks.MODIFIED_CLASSES[12] == f"{FASHION_CLASSES[2]} (inverted)"


def test_modified_subject_tells_classes_and_looks_apart(test_subset):
    from stochvis.models import load_model

    model = load_model("fashion_subject_modified", "cpu")
    assert model.classes == fashion_looks.MODIFIED_CLASSES and layer_shape(model, "fc1") == (256,)
    record = fashion.weights_info("fashion_subject_modified")["test_accuracy_per_look"]
    images, labels = test_subset[0][:500], test_subset[1][:500]
    measured = fashion_looks.accuracy_per_look(model, images, labels)
    assert set(measured) == {"normal", *fashion_looks.MODIFICATIONS}
    for look, value in measured.items():
        assert record[look] >= 0.85 and value >= record[look] - 0.04, (look, value, record[look])
    # the look measures on real images: each look is recognised and the measures separate them
    templates = fashion_looks.class_templates(*test_subset)
    x = torch.cat([images[:100], fashion_looks.modify(images[:100], "inverted"), fashion_looks.modify(images[:100], "blurred")])
    targets = torch.cat([labels[:100] + 10 * k for k in range(3)])
    rows = {row["look"]: row for row in fashion_looks.look_rows("real", x, targets, model, templates)}
    assert all(row["look_recognised"] > 0.85 and row["n"] == 100 for row in rows.values())
    assert rows["normal"]["template_corr"] > 0.6 and rows["inverted"]["template_corr"] < -0.6
    assert rows["inverted"]["border"] > 0.7 > 0.2 > rows["normal"]["border"]
    assert rows["blurred"]["hf_ratio"] < 0.2 * rows["normal"]["hf_ratio"]
    with pytest.raises(ValueError, match="0 … 29"):
        fashion_looks.look_rows("bad", x[:1], [30], model, templates)


def _tiny_training_run(seed: int, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
    fashion_training.make_deterministic(seed, threads=1)  # the recipe's thread count (recorded in the JSON files)
    model = fashion.wrap_subject(fashion.FashionVGG(widths=(4, 8, 8), code_dim=16))
    config = fashion_training.TrainConfig(epochs=1, batch_size=32, seed=seed, max_steps=3)
    fashion_training.train_classifier(model, images, labels, config, log=None)
    return {key: value.clone() for key, value in model.net.state_dict().items()}


def test_training_is_reproducible_bit_for_bit(test_subset):
    images, labels = test_subset[0][:256], test_subset[1][:256]  # any images do for determinism
    was_deterministic, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    try:
        first, second, other = (_tiny_training_run(seed, images, labels) for seed in (0, 0, 1))
        fashion_training.make_deterministic(0)
        untrained = fashion.FashionVGG(widths=(4, 8, 8), code_dim=16).state_dict()
    finally:
        torch.use_deterministic_algorithms(was_deterministic)
        torch.set_num_threads(threads)
    assert first.keys() == second.keys()
    assert all(torch.equal(first[key], second[key]) for key in first)
    assert not torch.equal(first["features.0.weight"], other["features.0.weight"])
    assert not torch.equal(first["classifier.3.weight"], untrained["classifier.3.weight"])  # it did train


def test_generator_training_is_reproducible(test_subset):
    images = test_subset[0][:64]
    was_deterministic, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    runs = []
    try:
        for _ in range(2):
            fashion_training.make_deterministic(0, threads=1)
            subject = fashion.wrap_subject(fashion.FashionVGG(widths=(4, 8, 8), code_dim=16))
            generator = fashion.FashionGenerator(code_dim=16, widths=(4, 8, 4, 4))
            config = fashion_training.GeneratorConfig(epochs=1, batch_size=16, max_steps=2)
            fashion_training.train_generator(generator, subject, images, config, log=None)
            runs.append(generator.state_dict())
    finally:
        torch.use_deterministic_algorithms(was_deterministic)
        torch.set_num_threads(threads)
    assert all(torch.equal(runs[0][key], runs[1][key]) for key in runs[0])
    assert not generator.training and not any(p.requires_grad for p in generator.parameters())
