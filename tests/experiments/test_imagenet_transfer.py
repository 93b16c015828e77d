"""The ImageNet transfer protocol on tiny models: which images each row makes, the seeds, the table, the verdicts."""

from __future__ import annotations

import math

import pytest
import torch

from stochvis.experiments import imagenet_transfer as T
from stochvis.optvis.maco import measure_spectrum


def _tiny_protocol() -> T.Protocol:
    return T.Protocol(classes=["class1", "class3"], size=16, steps=2, samples=2, accent_layer="conv2")


def _spectrum(seed: int):
    return measure_spectrum(torch.rand(6, 3, 16, 16, generator=torch.Generator().manual_seed(seed)), 16)


def _run(model, methods=T.METHODS):
    seeds = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    return T.run(model, _tiny_protocol(), natural=_spectrum(0), spectra_by_class={"class3": _spectrum(1)},
                 seed_images=seeds, seed_labels=[1, 3, 0, 0], methods=methods)


def test_every_row_makes_images_per_class_and_the_class_magnitude_only_where_one_exists(tiny_model):
    samples, seconds = _run(tiny_model)
    assert list(samples) == list(T.METHODS)
    for method, by_class in samples.items():
        expected = ["class3"] if method == T.CLASS else ["class1", "class3"]
        assert list(by_class) == expected, method
        for images in by_class.values():
            assert images.shape == (2, 3, 16, 16) and 0 <= float(images.min()) and float(images.max()) <= 1
    assert set(seconds[T.CLASS]) == {"class3"}
    assert all(seconds[m] > 0 for m in T.METHODS if m != T.CLASS)


def test_accentuation_seeds_never_come_from_the_target_class():
    labels = [0, 1, 1, 2, 0, 2]
    ids = T.other_class_seeds(labels, targets=[1, 2], per_class=3)
    assert len(ids) == 6
    assert all(labels[i] != 1 for i in ids[:3]) and all(labels[i] != 2 for i in ids[3:])
    assert ids[:3] != ids[3:]  # a different run of photos per target
    with pytest.raises(ValueError, match="at least two classes"):
        T.other_class_seeds([4, 4], targets=[4], per_class=1)


def test_unknown_method_is_refused_naming_the_valid_ones(tiny_model):
    with pytest.raises(ValueError, match="olah2017"):
        _run(tiny_model, methods=["simonyan2013", "lucid"])


def test_table_has_a_row_per_judge_method_and_class_and_writes_csv(tiny_model, tmp_path):
    from conftest import make_tiny

    samples, seconds = _run(tiny_model, methods=["simonyan2013", T.CLASS])
    judges = {"j1": make_tiny(seed=1), "j2": make_tiny(seed=2)}
    rows = T.table(samples, seconds, tiny_model, judges)
    assert [(r["judge"], r["method"], r["class_name"]) for r in rows] == [
        (j, m, c) for j in judges for m, cs in (("simonyan2013", ["class1", "class3"]), (T.CLASS, ["class3"]))
        for c in cs]
    assert all(math.isnan(r["fid"]) for r in rows) and all(0 <= r["judge_confidence"] <= 1 for r in rows)
    path = T.metrics.write_csv(rows, tmp_path / "transfer.csv")
    assert path.read_text().splitlines()[0].endswith(",judge")


def test_conclusions_compare_maco_with_olah_on_all_classes_and_magnitudes_on_measured_ones(tiny_model):
    def row(method, cls, conf, judge="j"):
        return {"method": method, "class": cls, "judge": judge, "judge_confidence": conf}

    rows = [row(T.NATURAL, 1, 0.2), row(T.NATURAL, 3, 0.6), row("olah2017", 1, 0.5), row("olah2017", 3, 0.5),
            row(T.CLASS, 3, 0.5)]
    (line,) = T.conclusions(rows, tiny_model, ["class1", "class3"], ["class3"])
    assert "fel2023 (natural) 0.400 vs olah2017 0.500 → worse" in line
    assert "on 1 classes with a class set: class magnitude 0.500 vs natural 0.600 → does not beat" in line
    assert math.isnan(T.mean_confidence(rows, T.CLASS, "j", [1]))


def test_forked_workers_make_the_same_images(tiny_model):
    methods = ["garon2017", T.CLASS, T.ACCENTUATION]
    seeds = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    runs = [T.run(tiny_model, _tiny_protocol(), natural=_spectrum(0), spectra_by_class={"class3": _spectrum(1)},
                  seed_images=seeds, seed_labels=[1, 3, 0, 0], methods=methods, workers=w)[0] for w in (1, 2)]
    assert list(runs[1]) == methods
    for method in methods:
        assert all(torch.equal(runs[0][method][c], runs[1][method][c]) for c in runs[0][method]), method
