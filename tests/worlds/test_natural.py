"""The natural-image world: composites of Tux Paint cut-outs on allow-listed photographs.

Tiny settings (32-48 px, two kinds, one composite per cut-out) so the file runs in seconds; the EfficientNet
judges are used only where their weights are already cached (never downloaded here).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stochvis import assets
from stochvis.data import TUXPAINT_DIR
from stochvis.evaluation.metrics import class_set_mass
from stochvis.models import imagenet_classes
from stochvis.worlds import natural

HAVE_STAMPS = TUXPAINT_DIR.is_dir()
HAVE_PHOTOS = all(root.is_dir() for root in natural.BACKGROUND_ROOTS.values())
needs_data = pytest.mark.skipif(not (HAVE_STAMPS and HAVE_PHOTOS),
                                reason="Tux Paint stamps or the Debian wallpaper packages are not installed")
SMALL = dict(size=32, per_object=1, seed=3)


def test_every_imagenet_set_name_is_a_real_class_and_sets_are_disjoint():
    classes = set(imagenet_classes())
    seen: dict[str, str] = {}
    for kind, names in natural.IMAGENET_SETS.items():
        assert names and len(set(names)) == len(names), kind
        assert not [n for n in names if n not in classes], kind
        for name in names:
            assert seen.setdefault(name, kind) == kind, f"{name!r} is in {seen[name]} and {kind}"
    assert set(natural.KIND_FOLDERS) == set(natural.IMAGENET_SETS)
    assert set(natural.KINDS) <= set(natural.KIND_FOLDERS)
    birds = set(natural.IMAGENET_SETS["birds"])
    assert {"cock", "great grey owl", "black grouse", "albatross", "crane bird"} <= birds and len(birds) == 59


def test_background_allow_list_excludes_photos_of_objects():
    names = " ".join(natural.BACKGROUNDS)
    for excluded in ("LadyBird", "YellowFlower", "FreshFlower", "Garden", "TwoWings", "EveningGlow", "Kite"):
        assert excluded not in names
    assert len(natural.BACKGROUNDS) >= 10 and len(set(natural.BACKGROUNDS)) == len(natural.BACKGROUNDS)
    assert {b.split(":")[0] for b in natural.BACKGROUNDS} == set(natural.BACKGROUND_ROOTS)


def test_missing_background_names_the_apt_get_command(monkeypatch, tmp_path):
    monkeypatch.setitem(natural.BACKGROUND_ROOTS, "mate-backgrounds", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="apt-get install -y --no-install-recommends mate-backgrounds"):
        natural.background_path("mate-backgrounds:nature/Aqua.jpg")
    with pytest.raises(FileNotFoundError, match="BACKGROUNDS"):
        natural.background_path("no-such-package:photo.jpg")


def test_background_split_is_deterministic_disjoint_and_about_thirty_percent():
    train, held = natural.split_backgrounds()
    assert (train, held) == natural.split_backgrounds()
    assert not set(train) & set(held) and set(train) | set(held) == set(natural.BACKGROUNDS)
    assert 0.2 <= len(held) / len(natural.BACKGROUNDS) <= 0.4
    assert {b.split(":")[0] for b in held} == set(natural.BACKGROUND_ROOTS)  # both packages on the held-out side
    with pytest.raises(ValueError, match="at least 2"):
        natural.split_backgrounds(natural.BACKGROUNDS[:1])


@needs_data
def test_kinds_count_subfolders_and_skip_drawings_layers_and_duplicates():
    counts = natural.kind_counts()
    assert counts["birds"] >= 30 and counts["bovines"] >= 12 and counts["mammals"] >= 40
    names = [p.relative_to(TUXPAINT_DIR).as_posix() for k in natural.KIND_FOLDERS for p in natural.kind_files(k)]
    assert len(names) == len(set(names))  # a cut-out belongs to one kind (bovines are not also mammals)
    assert any(n.startswith("animals/mammals/") and n.count("/") == 3 for n in names)  # subfolders counted
    assert not [n for n in names if "/cartoon/" in n or "_shadow" in n or "_back" in n or "_mirror" in n]
    assert "vehicles/7spoke256.png" not in names


@needs_data
def test_errors_name_the_valid_kinds_and_counts():
    with pytest.raises(KeyError, match=r"valid kinds \(cut-outs\): birds \(\d+\)"):
        natural.composites(["dragons"], **SMALL)
    with pytest.raises(ValueError, match=r"'insects' has \d+ cut-outs, fewer than 12; valid kinds.*fruit \(\d+\)"):
        natural.composites(["insects"], **SMALL)
    with pytest.raises(ValueError, match="at least 32 pixels"):
        natural.composites(["fruit"], size=16)
    with pytest.raises(KeyError, match="kinds: birds"):
        natural.class_indices("dragons", imagenet_classes())


@needs_data
def test_composites_are_deterministic_by_seed():
    kinds = ["fruit", "bovines"]
    first = natural.composites(kinds, **SMALL)
    again = natural.composites(kinds, **SMALL)
    other = natural.composites(kinds, size=32, per_object=1, seed=4)
    assert first.sources == again.sources and first.labels == again.labels and first.classes == kinds
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first.images, again.images))
    assert not all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first.images, other.images))
    assert first[0][0].size == (32, 32) and first[0][0].mode == "RGB"
    images, _ = first.tensors((32, 32))
    assert torch.isfinite(images).all() and images.std() > 0.05


@needs_data
def test_parts_are_the_layers_of_the_same_composites():
    kinds = ["fruit", "bovines"]
    whole, cutouts, backdrops = (natural.composites(kinds, part=part, **SMALL) for part in natural.PARTS)
    assert whole.sources == cutouts.sources == backdrops.sources
    for c, o, b in zip(whole.images, cutouts.images, backdrops.images):
        c, o, b = (np.asarray(x).astype(int) for x in (c, o, b))
        untouched = (c == b).all(-1)  # where the cut-out is transparent the composite is its backdrop ...
        assert 0.05 < untouched.mean() < 0.95
        assert (o[untouched] == natural.OBJECT_GREY).all(-1).mean() > 0.95  # ... and the object part is grey
        # composite = α·cut-out + (1-α)·backdrop and object = α·cut-out + (1-α)·grey, so they differ by
        # (1-α)·(backdrop - grey): never more than the backdrop differs from grey (rounding aside)
        assert (np.abs(c - o) <= np.abs(b - np.array(natural.OBJECT_GREY)) + 2).all()
        assert (c == o).all(-1)[~untouched].mean() > 0.1  # and inside the opaque object they are equal
    with pytest.raises(ValueError, match="composite, object, backdrop"):
        natural.composites(kinds, part="shadow", **SMALL)


@needs_data
def test_split_is_disjoint_in_objects_and_backgrounds():
    train, held = natural.split(["fruit", "bovines"], size=32, per_object=2, seed=0)
    train_objects = {natural.source_parts(s)[0] for s in train.sources}
    held_objects = {natural.source_parts(s)[0] for s in held.sources}
    train_photos = {natural.source_parts(s)[1] for s in train.sources}
    held_photos = {natural.source_parts(s)[1] for s in held.sources}
    assert train_objects and held_objects and not train_objects & held_objects
    assert not train_photos & held_photos
    assert held_photos <= set(natural.split_backgrounds()[1])
    counts = natural.kind_counts()
    assert len(held_objects) == sum(counts[k] // 4 for k in ("fruit", "bovines"))
    assert len(train) == 2 * len(train_objects) and len(held) == 2 * len(held_objects)
    assert set(held.labels) == {0, 1}


@needs_data
def test_the_validation_split_is_the_same_split_inside_the_training_side():
    kinds = ["fruit", "bovines"]
    train, held = natural.split(kinds, size=32, per_object=1, seed=0)
    fit, validation = natural.split(kinds, size=32, per_object=1, seed=0, validation=True)

    def parts(images, i):
        return {natural.source_parts(s)[i] for s in images.sources}

    # fit and validation share no cut-out and no photo, and together are exactly the training cut-outs ...
    assert parts(fit, 0) and parts(validation, 0) and not parts(fit, 0) & parts(validation, 0)
    assert not parts(fit, 1) & parts(validation, 1)
    assert parts(fit, 0) | parts(validation, 0) == parts(train, 0)
    # ... on the training photos only: nothing of the held-out side is in either
    train_photos, held_photos = natural.split_backgrounds()
    assert parts(fit, 1) | parts(validation, 1) <= set(train_photos) and not parts(validation, 1) & set(held_photos)
    assert not (parts(fit, 0) | parts(validation, 0)) & parts(held, 0)
    assert len(parts(validation, 0)) == sum(len(natural.split_objects(natural.kind_files(k))[0]) // 4 for k in kinds)
    assert (fit.name, validation.name) == ("natural/fit", "natural/validation")


def test_class_set_mass_sums_the_softmax_over_the_set(tiny_model, tiny_images):
    from stochvis.evaluation.metrics import probabilities

    probs = probabilities(tiny_model, tiny_images)
    mass = class_set_mass(tiny_model, tiny_images, [0, 2])
    assert torch.allclose(mass, probs[:, 0] + probs[:, 2], atol=1e-6)
    assert torch.allclose(class_set_mass(tiny_model, tiny_images, range(5)), torch.ones(4), atol=1e-5)


def _cached(name: str) -> bool:
    asset = assets.ASSETS[name]
    return (assets.home() / "assets" / name / asset.member.rsplit("/", 1)[-1]).exists()


@needs_data
@pytest.mark.skipif(not _cached("efficientnet_lite1"), reason="EfficientNet-Lite1 weights are not cached")
def test_a_judge_recognises_real_bird_composites():
    import stochvis

    judge = stochvis.load_model("efficientnet_lite1", device="cpu")
    rows = natural.recognition({"lite1": judge}, ["birds"], size=128, per_object=1, seed=0)
    assert rows[0]["kind"] == "birds" and rows[0]["images"] == natural.kind_counts()["birds"]
    assert rows[0]["confidence"] > 0.5 > 5 * rows[0]["chance"] and 0 <= rows[0]["top1_in_set"] <= 1


@needs_data
def test_masks_are_the_cut_outs_outlines_and_fit_a_shape_model():
    from stochvis.stats.silhouettes import SilhouetteModel

    masks = natural.masks(natural.kind_files("birds")[:4], side=64)
    assert len(masks) == 4
    for mask in masks:
        assert max(mask.shape) <= 64 and mask.min() == 0 and mask.max() == 1  # transparent around, opaque within
        assert 0.1 < (mask > 0.5).mean() < 0.9
    model = SilhouetteModel.fit(masks)
    assert model.components.shape[0] == 3 and model.draw(2, bandwidth=0.5).shape[0] == 2
