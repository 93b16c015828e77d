"""The ImageNet world's backward chain: Tux Paint composites, coarse-grid statistics, calibrated priors.

On a tiny VGG-like net that carries VGG16's layer names, at 32 px, so the world's own functions run
end to end in seconds.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from stochvis import data
from stochvis.methods import chain
from stochvis.models import wrap_model
from stochvis.worlds import tuxpaint

pytestmark = pytest.mark.skipif(not data.tuxpaint_categories(), reason="Tux Paint stamps are not installed")

SIZE = 32


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: a second intra-op thread only adds synchronisation on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_vgg(seed: int = 0):
    """Five conv stages named like VGG16's (conv2_2 … conv5_3): at 32 px, maps of 16, 8, 4 and 2 pixels."""
    torch.manual_seed(seed)

    def stage(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]

    net = nn.Sequential(*stage(3, 4), *stage(4, 6), *stage(6, 8), *stage(8, 8), nn.Conv2d(8, 8, 3, padding=1),
                        nn.ReLU())
    aliases = {"conv2_2": "4", "conv3_3": "7", "conv4_3": "10", "conv5_3": "13"}  # the ReLUs, before pooling
    return wrap_model(net, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), input_size=(SIZE, SIZE), name="tiny-vgg",
                      aliases=aliases, device="cpu")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    model = tiny_vgg()
    directory = tmp_path_factory.mktemp("statistics")
    built = tuxpaint.chain_statistics(model, image_size=SIZE, per_class=120, classes=("flowers", "fruit"),
                                      directory=directory)
    return model, built, directory


def test_composites_give_the_requested_count_per_class_and_never_share_a_cut_out():
    train, held = tuxpaint.composites(("flowers", "birds"), per_class=500, image_size=16)
    for name in ("flowers", "birds"):
        mine, theirs = train.of_class(name), held.of_class(name)
        cut_outs = len(set(mine.sources))
        assert 500 <= len(mine) < 500 + cut_outs, (name, len(mine), cut_outs)  # ⌈500 / cut-outs⌉ renders each
        assert set(mine.sources).isdisjoint(theirs.sources)
        assert len(set(theirs.sources)) == data.tuxpaint_categories()[name] // 4
    assert train.classes == ["flowers", "birds"] and set(train.labels) == {0, 1}


def test_flip_mirrors_exactly_the_drawn_images():
    plain, _ = tuxpaint.composites(("fruit",), per_class=20, image_size=16, flip=0.0)
    mirrored, _ = tuxpaint.composites(("fruit",), per_class=20, image_size=16, flip=1.0)
    a, b = plain.tensors((16, 16))[0], mirrored.tensors((16, 16))[0]
    assert torch.equal(a.flip(-1), b)  # same composites, each mirrored left–right
    with pytest.raises(KeyError, match="installed categories: .*birds"):
        tuxpaint.composites(("unicorns",), per_class=5)


def test_grid_statistics_hold_the_chain_and_come_back_from_the_cache(world):
    model, built, directory = world
    assert built.layers == ("conv5_3/grid2", "conv4_3/grid2", "conv3_3/grid4")
    stats = built.per_class["flowers"]
    assert stats.count >= 120 and built.per_class["fruit"].count >= 120
    assert stats["conv3_3/grid4"].dim == 8 * 16 and stats["conv5_3/grid2"].dim == 8 * 4
    for lower, upper in chain.chain_joints(built.layers):
        assert f"{lower}+{upper}" in stats.keys()
    assert "conv2_2/pooled" in stats.keys()  # the layer the chain does not fit, for class evidence
    # the vectors of the training images give back the stored mean
    flowers = built.train.of_class("flowers").tensors((SIZE, SIZE))[0]
    vectors = stats.vectors(model, flowers)["conv3_3/grid4"]
    assert torch.allclose(vectors.mean(0), stats["conv3_3/grid4"].mean, atol=1e-5)
    files = sorted(directory.glob("*.safetensors"))
    again = tuxpaint.chain_statistics(model, image_size=SIZE, per_class=120, classes=("flowers", "fruit"),
                                      directory=directory)
    assert sorted(directory.glob("*.safetensors")) == files  # read, not collected again
    assert torch.equal(again.per_class["flowers"]["conv3_3/grid4"].mean, stats["conv3_3/grid4"].mean)


def test_chain_draws_are_typical_and_their_inversion_moves_towards_them(world):
    model, built, _ = world
    stats = built.per_class["fruit"]
    targets = chain.sample_chain(stats, built.layers, 3, seed=0)
    for key, scores in chain.typicality(stats, targets).items():
        assert 0.5 < float(scores.mean()) < 2.0, (key, scores)
    start = chain.reconstruct_chain(model, stats, built.layers, 3, targets=targets, priors=built.priors, steps=1,
                                    measure_typicality=False)
    later = chain.reconstruct_chain(model, stats, built.layers, 3, targets=targets, priors=built.priors, steps=25,
                                    measure_typicality=False)
    assert later.images.shape == (3, 3, SIZE, SIZE)
    assert (later.inversion.error < start.inversion.error).all(), (start.inversion.error, later.inversion.error)


def test_the_worlds_priors_score_a_held_out_composite_as_typical(world):
    _, built, _ = world
    priors = built.priors
    held = built.held_out.tensors((SIZE, SIZE))[0]
    for term, cost in priors.cost(held).items():
        assert 0.5 < float(cost.median()) < 2.0, (term, cost.median())  # cut-outs the calibration never saw
    noise = torch.rand(4, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    assert priors.cost(noise)["tv"].min() > 5  # white noise is far from a composite
    assert torch.allclose(priors.init, built.train.tensors((SIZE, SIZE))[0].mean(0, keepdim=True))
    with pytest.raises(ValueError, match="image_size"):
        tuxpaint.image_priors(built.train)


def test_the_chain_runs_on_another_worlds_composites(tmp_path):
    """split=: the natural world's objects on photographs, cached by the images themselves."""
    from stochvis.worlds import natural

    model = tiny_vgg()
    split = natural.split(["birds", "fruit"], size=SIZE, per_object=1)
    built = tuxpaint.chain_statistics(model, image_size=SIZE, split=split, directory=tmp_path)
    assert list(built.per_class) == ["birds", "fruit"] and built.train is split[0] and built.held_out is split[1]
    assert built.per_class["birds"].count == split[0].labels.count(0)
    assert any(p.name.startswith("tiny-vgg-natural-chain-32px") for p in tmp_path.iterdir())
    again = tuxpaint.chain_statistics(model, image_size=SIZE, split=split, directory=tmp_path)
    assert torch.equal(again.per_class["fruit"]["conv5_3/grid2"].mean, built.per_class["fruit"]["conv5_3/grid2"].mean)
    other = natural.split(["birds", "fruit"], size=SIZE, per_object=1, seed=1)  # same names, other images
    tuxpaint.chain_statistics(model, image_size=SIZE, split=other, directory=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 2  # a second cache entry, not the first one's statistics
