"""The Fashion table as a library: the verdict rule and the images file, without running methods."""

from __future__ import annotations

import math

import pytest
import torch
from safetensors.torch import load_file

from stochvis.evaluation.metrics import BETTER
from stochvis.experiments import fashion, tables
from stochvis.experiments.tables import REALISM


def _summary(**rows):
    out = []
    for method, (fid, plausibility, judge) in rows.items():
        entry = {"method": method}
        for metric in BETTER:
            entry[f"{metric}_mean"] = 0.5
        entry.update({"fid_mean": fid, "plausibility_mean": plausibility, "judge_confidence_mean": judge})
        out.append(entry)
    return out


def test_verdict_needs_all_three_realism_measures_to_beat_the_baseline():
    summary = _summary(**{"Simonyan 2013": (250, 0.70, 0.50), "all better": (100, 0.80, 0.90),
                          "two of three": (100, 0.80, 0.40), fashion.REAL: (30, 0.9, math.nan)})
    verdicts, lines = fashion.verdict(summary, ["all better", "two of three"])
    assert verdicts == {"all better": True, "two of three": False}
    assert "holds for 1 of 2" in lines[-1] and "not supported for all" in lines[-1]
    assert any(line.startswith("fid") and "all better" in line for line in lines)


def test_images_file_holds_uint8_per_method_and_class(tmp_path):
    samples = {"A": {0: torch.rand(2, 1, 4, 4), 3: torch.ones(1, 1, 4, 4)}, "B": {0: torch.zeros(2, 1, 4, 4)}}
    path = fashion.save_images(samples, tmp_path / "images.safetensors")
    loaded = load_file(path)
    assert set(loaded) == {"A/0", "A/3", "B/0"}
    assert loaded["A/3"].dtype == torch.uint8 and int(loaded["A/3"].min()) == 255
    assert torch.allclose(loaded["A/0"].float() / 255, samples["A"][0], atol=0.5 / 255 + 1e-6)
    again = tables.load_images(path)  # the file read back to score again: {method: {class: images in [0, 1]}}
    assert set(again) == {"A", "B"} and set(again["A"]) == {"0", "3"}
    assert torch.allclose(again["A"]["0"], samples["A"][0], atol=0.5 / 255 + 1e-6) and again["A"]["3"].min() == 1.0


def test_disagreements_name_the_methods_whose_verdict_flips_between_judges():
    first = _summary(**{"Simonyan 2013": (250, 0.70, 0.50), "A": (100, 0.80, 0.90), "B": (200, 0.75, 0.60),
                        fashion.REAL: (30, 0.9, 0.95)})
    second = _summary(**{"Simonyan 2013": (150, 0.70, 0.50), "A": (100, 0.80, 0.90), "B": (200, 0.60, 0.60),
                         fashion.REAL: (30, 0.9, 0.95)})
    lines = fashion.disagreements(first, second, names=("resnet", "mixer"))
    by_metric = {line.split()[0]: line for line in lines}
    assert set(by_metric) == set(REALISM)
    assert by_metric["fid"].endswith("disagree on: B")  # B beats 250 but not 150
    assert by_metric["plausibility"].endswith("disagree on: B") and "best: A / A" in by_metric["plausibility"]
    assert by_metric["judge_confidence"].endswith("disagree on: none") and "1.00" in by_metric["judge_confidence"]


def test_run_in_forked_workers_gives_the_same_images_as_in_process(monkeypatch):
    from stochvis.models import load_model

    subject = load_model("fashion_subject")
    s = fashion.Setting(subject, subject, classes=[0, 3], n_per_class=2, steps=2, held_out={0: torch.zeros(1)})
    monkeypatch.setattr(fashion.Setting, "class_maps", lambda self, c: (None, None))  # inherited by the fork

    def per_class(setting, c):
        return torch.full((setting.n_per_class, 1, 28, 28), c / 10)

    methods = {fashion.BASELINE: fashion.simonyan2013, "per class": fashion.PerClass(per_class)}
    results = [fashion.run(s, methods, workers=w, log=None) for w in (1, 2)]
    for samples, seconds in results:
        assert list(samples) == [fashion.BASELINE, "per class", fashion.REAL]
        assert list(samples["per class"]) == [0, 3] and abs(float(samples["per class"][3].max()) - 0.3) < 1e-6
        assert seconds[fashion.BASELINE] > 0 and math.isnan(seconds[fashion.REAL])
    (one, _), (two, _) = results
    for c in (0, 3):
        assert torch.equal(one[fashion.BASELINE][c], two[fashion.BASELINE][c])
    with __import__("pytest").raises(ValueError, match="workers"):
        fashion.run(s, methods, workers=0, log=None)


def test_setting_refuses_more_training_images_than_a_class_has_beside_the_held_out():
    from stochvis.models import load_model

    subject = load_model("fashion_subject")
    with pytest.raises(ValueError, match=r"train_per_class=6000: between 2 and 5992"):
        fashion.fashion_setting(subject, subject, classes=[0], train_per_class=6000, n_per_class=8)
    with pytest.raises(ValueError, match=r"map_train_per_class=5993: between 2 and 5992"):
        fashion.fashion_setting(subject, subject, classes=[0], map_train_per_class=5993, n_per_class=8)
