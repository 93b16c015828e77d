"""The natural-image table on a tiny ImageNet-headed network: the split of the real images, every row's
images, the table's columns and the goal rule."""

from __future__ import annotations

import math
from collections import OrderedDict

import pytest
import torch
from torch import nn

from stochvis.evaluation import metrics
from stochvis.experiments import natural as N
from stochvis.models import imagenet_classes, wrap_model
from stochvis.stats.curve_density import curve_novelty
from stochvis.stats.quantiles import image_curves


def tiny_imagenet_net() -> nn.Module:
    """Layers named as the protocol reads them (stem, block1..block5), 1000 ImageNet classes."""
    torch.manual_seed(0)
    def conv(a, b, stride):
        return nn.Sequential(nn.Conv2d(a, b, 3, stride, 1), nn.ReLU())
    return nn.Sequential(OrderedDict(
        stem=conv(3, 8, 2), block1=conv(8, 8, 2), block2=conv(8, 12, 1), block3=conv(12, 12, 2),
        block4=conv(12, 16, 1), block5=conv(16, 16, 1), pool=nn.AdaptiveAvgPool2d(1), flat=nn.Flatten(),
        logits=nn.Linear(16, 1000)))


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    import os

    os.environ.setdefault("STOCHVIS_HOME", str(tmp_path_factory.mktemp("home")))
    subject = wrap_model(tiny_imagenet_net(), input_size=32, classes=imagenet_classes(), name="tiny-imagenet",
                         device="cpu")
    protocol = N.Protocol(kinds=["birds", "fruit"], size=32, samples=2, steps=2, maco_steps=2, per_object=1,
                          quantiles=4)
    return N.natural_setting(subject, protocol)


@pytest.fixture(scope="module")
def tiny_setting_rounds(setting):
    import dataclasses

    return N.natural_setting(setting.subject, dataclasses.replace(setting.protocol, per_object=3))


def test_the_real_row_and_the_reference_share_no_cut_out(setting):
    for kind in setting.protocol.kinds:
        assert len(setting.real_row[kind]) == 2 and len(setting.held_out[kind]) >= 2
        for real in setting.real_row[kind]:
            assert not any(torch.equal(real, ref) for ref in setting.held_out[kind])
            assert not any(torch.equal(real, train) for train in setting.train[kind])
    # the stem and every block<i> of the subject, in its order (the every-block row's layers), VITAL's five among them
    assert N.every_block(setting.subject) == ["stem", "block1", "block2", "block3", "block4", "block5"]
    assert set(setting.statistics.curves["birds"]) == set(N.every_block(setting.subject)) >= set(N.MATCH_LAYERS)
    # the evidence cap: the subject's own mass on each kind's set over its training composites
    for kind in setting.protocol.kinds:
        expected = metrics.class_set_mass(setting.subject, setting.train[kind], setting.sets[kind]).mean()
        mass = setting.statistics.real_mass[kind]
        assert 0 < mass <= 1 and mass == pytest.approx(float(expected))
    assert setting.statistics.curves["birds"]["stem"].shape == (8, 4)


def test_every_row_makes_images_and_the_table_has_its_columns(setting):
    samples, seconds = N.run(setting, workers=1)
    assert list(samples) == [*N.METHODS, N.REAL]
    for method, by_kind in samples.items():
        assert list(by_kind) == ["birds", "fruit"], method
        for images in by_kind.values():
            assert images.shape == (2, 3, 32, 32) and float(images.min()) >= 0 and float(images.max()) <= 1
    assert all(seconds[m] > 0 for m in N.METHODS) and math.isnan(seconds[N.REAL])
    judge = N.Judge("tiny", setting.subject, "block5", pooled=True)
    rows = N.table(setting, samples, seconds, [judge])
    assert len(rows) == len(samples) * 2
    assert set(N.COLUMNS) <= set(rows[0])
    real = [r for r in rows if r["method"] == N.REAL]
    assert all(0 <= r["judge_confidence"] <= 1 and r["family"] == "real" for r in real)
    maco = next(r for r in rows if r["method"] == "MACO (natural magnitude)")
    assert (maco["steps"], maco["crops"]) == (2, setting.protocol.maco_crops)
    assert {r["family"] for r in rows if r["method"] in N.STATISTICS_METHODS} == {"statistics"}
    assert all(r["novelty"] > 0 for r in rows)
    # KID is the row's features against every held-out composite of the kind, as FID-like's reference is
    vital = next(r for r in rows if r["method"] == N.VITAL and r["class"] == "fruit")
    held = judge.features(setting.held_out["fruit"])
    assert vital["kid"] == pytest.approx(metrics.kernel_distance(judge.features(samples[N.VITAL]["fruit"]), held))


def test_bad_protocols_are_refused_with_what_is_valid(setting):
    shallow = wrap_model(nn.Sequential(OrderedDict(stem=nn.Conv2d(3, 4, 3), block1=nn.Conv2d(4, 4, 3))),
                         input_size=32, name="shallow", device="cpu")
    with pytest.raises(ValueError, match="lacks block2, block3, block5"):
        N.every_block(shallow)
    with pytest.raises(ValueError, match="at least 32 px"):
        N.natural_setting(setting.subject, N.Protocol(kinds=["birds"], size=16))
    with pytest.raises(ValueError, match="unknown method"):
        N.run(setting, ["DGN-AM"])


def _row(method, judge, fid, plausibility, confidence, novelty):
    return {"method": method, "judge": judge, "fid": fid, "plausibility": plausibility,
            "judge_confidence": confidence, "novelty": novelty}


def test_the_goal_names_every_missed_condition():
    rivals = [N.BASELINE, "olah2017", "MACO (natural magnitude)", "MACO (class magnitude)"]
    rows = [_row(m, "j", 100, 0.5, 0.5, 1.0) for m in rivals] + [_row("VITAL-style (sort matching)", "j", 60, 0.6, 0.2, 1)]
    rows += [_row(N.REAL, "j", 30, 0.9, 0.9, 1.0), _row("AM + quantile prior", "j", 50, 0.7, 0.8, 0.9),
             _row("sampled layout + quantiles", "j", 70, 0.7, 0.5, 0.5)]
    first, second = N.goal(rows)  # the methods with no rows are not judged
    assert first == "AM + quantile prior: meets the goal under every judge"
    assert "FID-like 70.0 vs VITAL-style (sort matching) 60.0" in second
    assert "confidence 0.50 < 0.8 × real 0.90" in second and "novelty 0.50 < 0.8" in second
    # a study of some rows only: compared with the rivals it ran, the others named
    note, line = N.goal([r for r in rows if r["method"] in (N.BASELINE, N.REAL, "sampled layout + quantiles")])
    assert note.startswith("(not in these rows, so not compared: olah2017, MACO (natural magnitude)")
    assert "vs olah2017" not in line and "novelty 0.50 < 0.8" in line and "vs Simonyan" not in line


def test_the_second_opinion_reads_kid_against_the_vital_row_under_each_judge():
    rows = [{"method": N.VITAL, "judge": j, "kid": 0.5} for j in ("a", "b")]
    rows += [{"method": N.SILHOUETTE_ROW, "judge": "a", "kid": 0.2}, {"method": N.SILHOUETTE_ROW, "judge": "b", "kid": 0.7},
             {"method": N.DRAWN_ROW, "judge": "a", "kid": math.nan}, {"method": N.DRAWN_ROW, "judge": "a", "kid": 0.4},
             {"method": N.DRAWN_ROW, "judge": "b", "kid": -0.1}]
    lines = N.second_opinion(rows)
    assert [line.split(":")[0] for line in lines] == [m for m in N.STATISTICS_METHODS if m in (N.SILHOUETTE_ROW, N.DRAWN_ROW)]
    silhouette = next(line for line in lines if line.startswith(N.SILHOUETTE_ROW))
    assert "a 0.2 vs 0.5 (better)" in silhouette and "b 0.7 vs 0.5 (not better)" in silhouette
    drawn = next(line for line in lines if line.startswith(N.DRAWN_ROW))
    assert "a 0.4 vs 0.5 (better)" in drawn and "b -0.1 vs 0.5 (better)" in drawn  # NaN kinds are left out
    assert N.second_opinion([r for r in rows if r["method"] != N.VITAL])[0].startswith("(no VITAL")
    from stochvis.experiments import tables
    with pytest.raises(ValueError, match="one of"):
        tables.against_peer(rows, [N.DRAWN_ROW], peer=N.VITAL, measure="realness")


def test_a_judge_without_a_head_decides_on_realism_alone():
    summary = [{"method": N.BASELINE, "fid_mean": 100.0, "plausibility_mean": 0.3, "judge_confidence_mean": math.nan},
               {"method": "sampled layout + quantiles", "fid_mean": 80.0, "plausibility_mean": 0.4,
                "judge_confidence_mean": math.nan},
               {"method": N.REAL, "fid_mean": 50.0, "plausibility_mean": 0.5, "judge_confidence_mean": math.nan}]
    verdicts, lines = N.verdict(summary)
    assert verdicts == {"sampled layout + quantiles": True}
    assert not any("judge_confidence" in line for line in lines)


def test_a_seed_study_keeps_the_composites_and_changes_only_the_optimisation(setting):
    other = setting.reseeded(1)
    assert other.protocol.seed == 1 and setting.protocol.seed == 0
    assert other.train is setting.train and other.held_out is setting.held_out and other.statistics is setting.statistics
    first, second = N.ROWS["sampled layout + quantiles"](setting), N.ROWS["sampled layout + quantiles"](other)
    assert not torch.equal(first["birds"], second["birds"])
    judge = N.Judge("tiny", setting.subject, "block5", pooled=True)
    rows = N.table(other, {"sampled layout + quantiles": second}, {}, [judge])
    assert {r["seed"] for r in rows} == {1}


def test_pooled_seeds_measure_each_row_once_on_every_seeds_images(tiny_setting_rounds):
    setting = tiny_setting_rounds  # three held-out composites of each cut-out: three seeds' worth of real images
    rows_of = [N.BASELINE, "sampled layout + quantiles"]
    per_seed = [N.run(setting.reseeded(seed), rows_of, workers=1) for seed in (0, 1, 2)]
    samples, seconds = N.pooled(setting, per_seed)
    for method in rows_of:
        for kind in setting.protocol.kinds:  # seed 0's images first, then seed 1's and seed 2's, none lost
            assert torch.equal(samples[method][kind], torch.cat([s[method][kind] for s, _ in per_seed]))
        assert seconds[method] == pytest.approx(sum(sec[method] for _, sec in per_seed) / 3)
    judge = N.Judge("tiny", setting.subject, "block5", pooled=True)
    rows = N.table(setting, samples, seconds, [judge])
    assert {r["n"] for r in rows} == {3 * setting.protocol.samples}  # the real row as many as every other row
    with pytest.raises(ValueError, match="at least one seed"):
        N.pooled(setting, [])


def test_the_real_rounds_are_more_composites_of_the_real_rows_cut_outs_never_the_reference(tiny_setting_rounds):
    setting = tiny_setting_rounds
    samples = setting.protocol.samples
    one = setting.real_of_rounds(1)
    for kind in setting.protocol.kinds:
        assert torch.equal(one[kind], setting.real_row[kind])  # round 0 is the real row itself
        three = setting.real_of_rounds(3)[kind]
        assert len(three) == 3 * samples and len({tuple(x.flatten()[:64].tolist()) for x in three}) == len(three)
        assert not any(torch.equal(x, ref) for x in three for ref in setting.held_out[kind])
        assert not any(torch.equal(x, tr) for x in three for tr in setting.train[kind])
    with pytest.raises(ValueError, match="pool 1 to 3 seeds"):
        setting.real_of_rounds(4)


def test_pooling_one_seed_is_refused_before_anything_runs(capsys):
    with pytest.raises(SystemExit):
        N.main(["--pool", "--seeds", "3"])
    assert "--pool needs at least two --seeds" in capsys.readouterr().err


def test_the_summary_gives_the_spread_over_seeds_only_when_there_are_several():
    def row(seed, fid):
        return {"method": "m", "judge": "j", "seed": seed, "judge_confidence": 0.5, "fid": fid, "plausibility": 0.4,
                "diversity": 1.0, "novelty": 1.0, "seconds_per_image": math.nan}
    one = N.summary_lines([row(0, 10.0), row(0, 20.0)])
    assert one[0] == "== j" and "FID 15.0 " in one[1] + " " and "±" not in one[1] and "s/image —" in one[1]
    several = N.summary_lines([row(0, 10.0), row(0, 20.0), row(1, 25.0), row(1, 35.0)])
    assert "FID 22.5 ± 10.6" in several[1]  # per-seed means 15 and 30: std (n − 1) 10.6


def test_the_photo_cutout_backdrop_has_the_training_composites_spectrum_and_the_evidence_row_runs(setting):
    from stochvis.optvis.maco import MacoParam, measure_spectrum

    every = torch.cat([setting.train[k] for k in setting.protocol.kinds])
    measured = measure_spectrum(every, setting.protocol.size)
    assert torch.allclose(setting.statistics.world_spectrum.magnitude, measured.magnitude, rtol=1e-5, atol=1e-6)
    param = setting.photo_cutout()(batch=2, size=(32, 32), seed=0)
    assert isinstance(param.backdrop_param, MacoParam)
    assert torch.equal(param.backdrop_param.magnitude[:, 1:, 1:], setting.statistics.world_spectrum.magnitude[:, 1:, 1:])
    images = N.matched_with_evidence(setting, param=setting.photo_cutout())
    assert list(images) == ["birds", "fruit"] and images["birds"].shape == (2, 3, 32, 32)
    assert 0 <= float(images["fruit"].min()) and float(images["fruit"].max()) <= 1


def test_an_exploration_ranks_on_training_before_it_shows_held_out_numbers(setting, tmp_path):
    import dataclasses

    from safetensors.torch import load_file

    from stochvis.experiments import explorations

    # two composites per cut-out: the ranking's reference (training composites beyond the shown ones) then has
    # nearest training neighbours other than itself, as in the table's protocol (four per cut-out)
    setting = N.natural_setting(setting.subject, dataclasses.replace(setting.protocol, per_object=2))
    judge = N.Judge("tiny", setting.subject, "block5", pooled=True)
    candidates = {"vital": N.vital_style, "simonyan": N.simonyan2013}
    lines = explorations.explore(setting, candidates, [judge], seeds=[0, 1], workers=1, save=tmp_path / "x.safetensors")
    held = lines.index("== held out (seen, never used to choose)")
    assert "(against training composites)" in lines[0] and lines[held - 1].startswith("mean realism rank")
    assert "→ chosen: " in lines[held - 1]
    summary = lines[held + 1:]
    assert summary[0] == "== tiny" and all(any(line.lstrip().startswith(n) for line in summary) for n in candidates)
    assert any("±" in line for line in summary)  # two seeds: their spread is shown
    assert set(load_file(tmp_path / "x.safetensors")) == {f"{n}/{k}" for n in candidates for k in setting.protocol.kinds}
    with pytest.raises(ValueError, match="no candidates"):
        explorations.explore(setting, {}, [judge])


def test_drawn_targets_give_each_image_its_own_curves_from_its_kind(setting):
    layers = N.every_block(setting.subject)
    drawn = setting.drawn_targets(layers)
    mean = setting.curve_targets(layers)
    for layer in layers:
        assert drawn[layer].shape == mean[layer].shape  # (kinds × samples, C, Q), the order of Protocol.targets
        assert (drawn[layer].diff(dim=-1) >= 0).all()
    first, second = drawn["block5"][0], drawn["block5"][1]  # two images of one kind: two draws, not one target
    assert not torch.allclose(first, second)
    # a draw's values stay within the range of its kind's training composites at that channel
    density = setting.statistics.curve_densities["birds"]
    # the density keeps the protocol's main components (fewer when the kind has fewer composites)
    count = len(setting.train["birds"])
    assert density.components_.shape[0] == min(setting.protocol.curve_components, count - 1) and density.count_ == count
    assert (drawn["block5"][:2] >= density.low_["block5"][:, None].float() - 1e-6).all()
    # the density's mean is the kind's mean curves; another seed draws other curves
    torch.testing.assert_close(density.mean_curves["block5"], setting.statistics.curves["birds"]["block5"],
                               rtol=1e-4, atol=1e-5)
    assert not torch.equal(setting.reseeded(1).drawn_targets(layers)["block5"], drawn["block5"])
    assert torch.equal(setting.drawn_targets(layers)["block5"], drawn["block5"])
    # each kind's calibrated temperature: its draws are as new as a composite of another photo and cut-out
    p = setting.protocol
    for kind, temperature in setting.statistics.curve_temperatures.items():
        kind_groups = setting.train_groups[kind]  # (cut-out, photo) of each training composite, in its order
        assert len(kind_groups) == len(setting.train[kind])
        assert len({cutout for cutout, _ in kind_groups}) > 1 and len({photo for _, photo in kind_groups}) > 1
        density = setting.statistics.curve_densities[kind]
        curves = image_curves(setting.subject, setting.train[kind], layers, quantiles=p.quantiles)
        # the setting keeps each training composite's curves, in the order of its composites and groups
        assert all(torch.equal(setting.statistics.image_curves[kind][layer], curves[layer]) for layer in layers)
        assert curve_novelty(density, curves, kind_groups, temperature=temperature) >= 1.0
        assert curve_novelty(density, curves, kind_groups, temperature=temperature - 0.02) < 1.0
    calibrated = setting.drawn_targets(layers, "calibrated")
    with pytest.raises(ValueError, match="'hot': give a number ≥ 0 or 'calibrated'"):
        setting.drawn_targets(layers, "hot")
    assert calibrated["block5"].shape == drawn["block5"].shape and not torch.equal(calibrated["block5"], drawn["block5"])


def test_the_colour_curves_are_the_training_composites_and_the_row_matches_them(setting):
    from stochvis.optvis import regularizers as R

    p = setting.protocol
    for kind in p.kinds:
        assert torch.allclose(setting.statistics.colour_curves[kind], R.colour_curves(setting.train[kind], p.quantiles))
        assert setting.statistics.colour_curves[kind].shape == (3, p.quantiles)
    penalty = setting.colour_penalty(1.0)
    grey = torch.full((len(p.targets()), 3, 32, 32), 0.5)
    assert (penalty(grey) > 0.5).all()  # flat at mid-grey: far from every kind's colours
    import dataclasses

    longer = dataclasses.replace(setting, protocol=dataclasses.replace(p, steps=40))  # the protocol's 2 move nothing
    layers = N.every_block(setting.subject)
    plain = N.matched_with_evidence(longer, layers, drawn=True)
    coloured = N.matched_with_evidence(longer, layers, drawn=True, colours=True)
    images = lambda by_kind: torch.cat([by_kind[k] for k in p.kinds])  # noqa: E731
    assert float(penalty(images(coloured)).mean()) < 0.8 * float(penalty(images(plain)).mean())


def test_each_image_gets_its_kinds_measured_colour_basis(setting):
    from stochvis.optvis import params as P

    p = setting.protocol
    for kind in p.kinds:
        measured = P.measure_colour(setting.train[kind])
        assert torch.allclose(setting.statistics.class_colours[kind].mean, measured.mean)
        assert torch.allclose(setting.statistics.class_colours[kind].sqrt_covariance, measured.sqrt_covariance)
    param = setting.class_colour_fft()(batch=len(p.targets()), size=32, seed=0)
    with torch.no_grad():
        param.spectrum.zero_()  # a flat image: each at its kind's mean colour
    flat = param()[:, :, 0, 0]
    for i, kind in enumerate(p.targets()):
        assert torch.allclose(flat[i], setting.statistics.class_colours[kind].mean, atol=1e-5)


def test_an_extra_objective_beside_the_evidence_reaches_the_matched_row(setting):
    import dataclasses

    longer = dataclasses.replace(setting, protocol=dataclasses.replace(setting.protocol, steps=6))
    layers = N.every_block(setting.subject)
    plain = N.matched_with_evidence(longer, layers, drawn=True)
    with_layout = N.matched_with_evidence(longer, layers, drawn=True, extra_objective=N.drawn_layout_loss(longer))
    assert any(not torch.equal(plain[k], with_layout[k]) for k in plain)
    again = N.matched_with_evidence(longer, layers, drawn=True,
                                    extra_objective=N.drawn_layout_loss(longer, longer.statistics.layout, N.LAYOUT))
    assert all(torch.equal(with_layout[k], again[k]) for k in with_layout)  # the default is the table's layout


def test_the_shape_models_are_the_training_cut_outs_and_the_silhouette_row_runs_seeded(setting):
    from stochvis.stats.silhouettes import SilhouetteModel
    from stochvis.worlds import natural as world

    p = setting.protocol
    for kind in p.kinds:
        training = list(dict.fromkeys(c for c, _ in setting.train_groups[kind]))
        held_out = {str(f.relative_to(world.TUXPAINT_DIR)) for f in world.split_objects(world.kind_files(kind))[1]}
        assert not held_out & set(training)  # no held-out outline in the model
        refit = SilhouetteModel.fit(world.masks(training))
        assert len(setting.statistics.silhouettes[kind].codes) == len(training)
        assert torch.allclose(setting.statistics.silhouettes[kind].mean, refit.mean)
    masks = N.drawn_silhouettes(setting)
    assert masks.shape == (len(p.targets()), 1, p.size, p.size)
    assert torch.equal(masks, N.drawn_silhouettes(setting))  # seeded
    assert not torch.equal(masks, N.drawn_silhouettes(setting.reseeded(p.seed + 1)))
    images = N.in_drawn_silhouette(setting)
    assert list(images) == p.kinds and all(v.shape == (p.samples, 3, p.size, p.size) for v in images.values())


def test_the_object_curves_are_the_training_cut_outs_alone_on_grey(setting):
    from stochvis.experiments.natural_setting import every_block
    from stochvis.stats.quantiles import collect_quantiles
    from stochvis.worlds import natural as world

    p = setting.protocol
    objects, _ = world.split(p.kinds, size=p.size, per_object=p.per_object, seed=p.split_seed, part="object")
    images, labels = objects.tensors((p.size, p.size))
    kind, layer = p.kinds[0], every_block(setting.subject)[1]
    assert list(setting.statistics.object_curves[kind]) == every_block(setting.subject)
    alone = images[labels == 0]
    assert len(alone) == len(setting.train[kind])  # one per training composite, no held-out cut-out
    grey = (alone - world.OBJECT_GREY[0] / 255).abs().amax(1) < 1e-6
    assert grey.float().mean() > 0.2  # the canvas around the cut-outs
    mine = collect_quantiles(setting.subject, alone, [layer], quantiles=p.quantiles)[layer].curves
    assert torch.allclose(setting.statistics.object_curves[kind][layer], mine)
    of_objects, whole = setting.statistics.object_curves[kind][layer], setting.statistics.curves[kind][layer]
    assert of_objects.shape == whole.shape and not torch.allclose(of_objects, whole, atol=1e-3)
    plain = N.in_drawn_silhouette(setting, object_curves=False)
    matched = N.in_drawn_silhouette(setting)
    assert any(not torch.equal(plain[k], matched[k]) for k in plain)  # the row's object term is in use


def test_the_objects_are_matched_from_the_protocols_block_on(setting):
    import dataclasses

    from stochvis.experiments.natural_setting import every_block

    p = setting.protocol
    blocks = every_block(setting.subject)  # the tiny net: stem, block1..block5
    targets = setting.object_curve_targets()
    assert list(targets) == blocks[blocks.index(p.object_curves_from):]  # block3, block4, block5 by default
    for layer, t in targets.items():  # each image its kind's cut-outs' curves, in the order of the targets
        assert t.shape[0] == len(p.targets())
        assert torch.equal(t[0], setting.statistics.object_curves[p.kinds[0]][layer])
        assert torch.equal(t[-1], setting.statistics.object_curves[p.kinds[-1]][layer])
    every = dataclasses.replace(setting, protocol=dataclasses.replace(p, object_curves_from="stem"))
    assert list(every.object_curve_targets()) == blocks
    finer, coarser = N.in_drawn_silhouette(every), N.in_drawn_silhouette(setting)
    assert any(not torch.equal(finer[k], coarser[k]) for k in finer)  # the row reads where its matching starts
    with pytest.raises(ValueError, match="one of the subject's blocks, stem, block1"):
        dataclasses.replace(setting, protocol=dataclasses.replace(p, object_curves_from="block0")).object_curve_targets()


def test_the_silhouette_rows_object_is_on_its_kinds_cut_outs_colours(setting):
    from stochvis.optvis import params as P
    from stochvis.worlds import natural as world

    p = setting.protocol
    objects, _ = world.split(p.kinds, size=p.size, per_object=p.per_object, seed=p.split_seed, part="object")
    images, labels = objects.tensors((p.size, p.size))
    alone = images[labels == 0]  # the first kind's training cut-outs alone on grey
    inside = (alone - world.OBJECT_GREY[0] / 255).abs().amax(1) > 1e-3
    pixels = alone.permute(1, 0, 2, 3)[:, inside]  # (3, pixels of the cut-outs)
    measured = setting.statistics.cutout_colours[p.kinds[0]]
    assert torch.allclose(measured.mean, pixels.double().mean(1).float(), atol=1e-6)
    assert not torch.allclose(measured.mean, setting.statistics.class_colours[p.kinds[0]].mean, atol=1e-3)
    assert 0 < inside.float().mean() < 0.8  # the canvas is not measured
    assert isinstance(setting.cutout_colour_fft()(batch=len(p.targets()), size=p.size), P.FFTParam)
    row, before = N.in_drawn_silhouette(setting), N.in_drawn_silhouette(setting, object_colours="kind")
    assert any(not torch.equal(row[k], before[k]) for k in row)  # the row's object is on them
    with pytest.raises(ValueError, match="cut-outs"):
        N.in_drawn_silhouette(setting, object_colours="photos")


def scores(fid: float, plausibility: float) -> dict[str, float]:
    """One candidate's means under one judge, as the rule reads them."""
    return {"fid_mean": fid, "plausibility_mean": plausibility}


def test_the_rule_can_refuse_a_challenger_that_wins_on_ranks_but_loses_much_under_one_judge():
    from stochvis.experiments import explorations

    # the challenger is better on three measures of four by 1%, and 23% worse in one judge's FID-like
    summaries = {"lite": {"row": scores(100, 0.50), "challenger": scores(99, 0.51)},
                 "vgg": {"row": scores(100, 0.50), "challenger": scores(123, 0.51)}}
    assert explorations.choose(summaries)[0] == "challenger"  # ranks alone: 1.25 against 1.75
    chosen, lines = explorations.choose(summaries, incumbent_tolerance=0.05)
    assert chosen == "row"
    assert any(line.startswith("refused") and "vgg FID-like +23.0%" in line for line in lines)
    # within the tolerance it wins as before, and a plausibility loss beyond it refuses too
    assert explorations.choose(summaries, incumbent_tolerance=0.25)[0] == "challenger"
    summaries["vgg"]["challenger"] = scores(99, 0.40)
    summaries["lite"]["challenger"] = scores(98, 0.52)
    assert explorations.choose(summaries)[0] == "challenger"
    assert explorations.choose(summaries, incumbent_tolerance=0.05)[0] == "row"
    with pytest.raises(ValueError, match="fraction"):
        explorations.choose(summaries, incumbent_tolerance=1.5)
    with pytest.raises(ValueError, match="same candidates"):
        explorations.choose({"lite": {"row": scores(1, 1)}, "vgg": {"other": scores(1, 1)}})


def test_a_tie_keeps_the_incumbent_and_says_so():
    from stochvis.experiments import explorations

    # each wins two measures of four: mean rank 1.50 each
    summaries = {"lite": {"row": scores(100, 0.50), "challenger": scores(99, 0.49)},
                 "vgg": {"row": scores(100, 0.50), "challenger": scores(101, 0.51)}}
    chosen, lines = explorations.choose(summaries)
    assert chosen == "row" and "a tie with challenger" in lines[-1]
    summaries["vgg"]["challenger"] = scores(99, 0.51)  # now better on three of four: no tie
    chosen, lines = explorations.choose(summaries)
    assert chosen == "challenger" and "tie" not in lines[-1]


def test_the_rules_own_split_takes_its_statistics_from_the_fit_part_and_scores_against_the_rest(setting):
    import dataclasses

    from stochvis.experiments import explorations
    from stochvis.stats.quantiles import mean_curves

    protocol = dataclasses.replace(setting.protocol, per_object=2)
    table = N.natural_setting(setting.subject, protocol)
    rule = N.natural_setting(setting.subject, dataclasses.replace(protocol, validation=True))
    assert table.validation is None and set(rule.validation) == set(protocol.kinds)
    for k in protocol.kinds:
        assert torch.equal(rule.held_out[k], table.held_out[k])  # the held-out side is the table's own
        fit_cutouts = {c for c, _ in rule.train_groups[k]}
        assert fit_cutouts < {c for c, _ in table.train_groups[k]}  # fewer cut-outs: a part of the training ones
        assert len(rule.train[k]) + len(rule.validation[k]) == len(table.train[k])
        # every statistic is of the fit part: the kind's curves are the mean of the fit composites' own
        fit_curves = image_curves(rule.subject, rule.train[k], ["block3"], quantiles=protocol.quantiles)
        assert torch.allclose(rule.statistics.curves[k]["block3"], mean_curves(fit_curves)["block3"], atol=1e-5)
    # The rule chooses the candidate that *is* its reference: the validation composites under the rule's split,
    # training composites (beyond the shown ones) without it
    judge = N.Judge("tiny", setting.subject, "block5", pooled=True)
    shown = protocol.samples
    candidates = {"training": {k: v[shown:] for k, v in rule.train.items()}, "validation": rule.validation}
    chosen, lines = explorations.select_on_training(rule, candidates, [judge])
    assert chosen == "validation" and "(against validation composites)" in lines[0]
    chosen, lines = explorations.select_on_training(dataclasses.replace(rule, validation=None), candidates, [judge])
    assert chosen == "training" and "(against training composites)" in lines[0]


def test_a_script_states_the_protocol_it_ran_under_and_the_rules_split(monkeypatch, capsys):
    from stochvis import models
    from stochvis.experiments import explorations

    seen = {}
    monkeypatch.setattr(models, "load_model", lambda name: name)
    monkeypatch.setattr(N, "natural_setting", lambda subject, protocol: seen.setdefault("protocol", protocol))
    monkeypatch.setattr(N, "load_judges", lambda: [])
    monkeypatch.setattr(explorations, "explore", lambda base, made, judges, seeds, **options: ["ran"])
    explorations.main("a question", {"row": N.vital_style}, validation=True,
                      protocol={"object_curves_from": "stem"}, argv=["--quick"])
    p = seen["protocol"]
    assert (p.object_curves_from, p.validation, p.size) == ("stem", True, N.quick_protocol().size)
    assert capsys.readouterr().out.strip() == "ran"
    with pytest.raises(TypeError):  # a field the protocol does not have is refused, not ignored
        explorations.main("a question", {"row": N.vital_style}, protocol={"object_curve_from": "stem"}, argv=[])


def test_the_rule_can_pool_the_images_of_several_seeds(setting, monkeypatch):
    from stochvis.experiments import explorations

    seen = []

    def row(s):  # the seed in every pixel, so the rule's images say which seeds they came from
        return {k: torch.full((s.protocol.samples, 3, 4, 4), float(s.protocol.seed)) for k in s.protocol.kinds}

    monkeypatch.setattr(explorations, "select_on_training",
                        lambda s, runs, judges, **options: seen.append(runs) or ("row", ["ruled"]))
    monkeypatch.setattr(N, "table", lambda s, runs, seconds, judges: [])
    monkeypatch.setattr(N, "summary_lines", lambda rows: [])
    lines = explorations.explore(setting, {"row": row}, [], seeds=[3, 5, 7], workers=1, rule_seeds=2)
    assert len(seen) == 1 and "the rule on seeds 3, 5, pooled per kind" in lines[0] and "ruled" in lines
    for k in setting.protocol.kinds:
        assert sorted(seen[0]["row"][k][:, 0, 0, 0].tolist()) == [3.0] * 2 + [5.0] * 2  # not seed 7's
    seen.clear()
    explorations.explore(setting, {"row": row}, [], seeds=[3, 5], workers=1)
    assert seen[0]["row"][setting.protocol.kinds[0]][:, 0, 0, 0].tolist() == [3.0, 3.0]  # one seed by default
    with pytest.raises(ValueError, match="rule pools the first 1 to 2 of the seeds"):
        explorations.explore(setting, {"row": row}, [], seeds=[3, 5], workers=1, rule_seeds=3)


def test_a_script_whose_rule_pools_two_seeds_runs_two_by_default(monkeypatch, capsys):
    from stochvis import models
    from stochvis.experiments import explorations

    seen = {}
    monkeypatch.setattr(models, "load_model", lambda name: name)
    monkeypatch.setattr(N, "natural_setting", lambda subject, protocol: protocol)
    monkeypatch.setattr(N, "load_judges", lambda: [])
    monkeypatch.setattr(explorations, "explore",
                        lambda base, made, judges, seeds, **options: seen.update(seeds=seeds, **options) or ["ran"])
    explorations.main("a question", {"row": N.vital_style}, rule_seeds=2, argv=["--quick"])
    assert seen["seeds"] == [0, 1] and seen["rule_seeds"] == 2
    explorations.main("a question", {"row": N.vital_style}, argv=["--quick"])
    assert seen["seeds"] == [0] and seen["rule_seeds"] == 1


def test_each_image_is_asked_for_one_member_its_kinds_training_composites_are(setting):
    from stochvis.models import LOGITS

    subject, targets = setting.subject, setting.protocol.targets()
    for kind in setting.protocol.kinds:
        members = setting.statistics.members[kind]
        on_set = metrics.probabilities(subject, setting.train[kind])[:, setting.sets[kind]]
        assert members.tops == [setting.sets[kind][j] for j in on_set.argmax(1).tolist()]
    evidence = setting.drawn_member_evidence().bind(subject)
    asked = []
    for c in sorted({c for k in setting.protocol.kinds for c in setting.sets[k]}):
        logits = torch.zeros(len(targets), 1000)
        logits[:, c] = 40.0  # every image all class c: the images asked for c reach their cap, the rest nothing
        value = evidence({LOGITS: logits})
        asked.append([(c, v) for v in value.tolist()])
    for i, kind in enumerate(targets):
        reached = [(c, v) for c, v in (row[i] for row in asked) if v > -10]
        assert len(reached) == 1  # one member per image
        member, value = reached[0]
        members = setting.statistics.members[kind]
        assert member in members.tops  # a member the kind's real composites are
        assert value == pytest.approx(math.log(members.ceilings[member]), abs=1e-5)  # as sure as they are of it
    row = N.in_drawn_silhouette(setting, evidence=setting.protocol.evidence_weight * setting.drawn_member_evidence())
    assert set(row) == set(setting.protocol.kinds) and all(torch.isfinite(x).all() for x in row.values())
    default = N.in_drawn_silhouette(setting)
    assert any(not torch.equal(row[k], default[k]) for k in row)  # the evidence given is the evidence asked


def test_every_held_out_cut_out_is_a_wider_yardstick_the_table_can_measure_against(tiny_setting_rounds):
    s = tiny_setting_rounds
    wide = s.every_held_out()
    for kind in s.protocol.kinds:
        rounds = s.real_rounds[kind]
        assert len(wide[kind]) == len(s.held_out[kind]) + sum(len(r) for r in rounds)
        for image in (*s.held_out[kind], *torch.cat(rounds)):  # the reference's and every real-row composite
            assert any(torch.equal(image, w) for w in wide[kind])
    samples = {"noise": {k: torch.rand(3, 3, s.protocol.size, s.protocol.size, generator=torch.Generator().manual_seed(i))
                         for i, k in enumerate(s.protocol.kinds)}}
    judge = N.Judge("tiny", s.subject, layer="block5", pooled=True)
    narrow = N.table(s, samples, {}, [judge])
    widened = N.table(s, samples, {}, [judge], against=wide)
    for a, b in zip(narrow, widened):
        assert a["class"] == b["class"] and a["judge_confidence"] == b["judge_confidence"]  # only the yardstick moved
        assert b["real_diversity"] == pytest.approx(metrics.diversity(judge.features(wide[b["class"]])))
        assert a["fid"] != b["fid"]


def test_the_silhouette_row_holds_its_patches_to_its_kinds_photographs(setting, monkeypatch):
    import dataclasses

    from stochvis.experiments.natural_setting import every_block
    from stochvis.optvis import regularizers as R

    p = setting.protocol
    mixtures = setting.statistics.patches
    assert list(mixtures) == p.kinds
    [prior] = setting.patch_prior()
    assert isinstance(prior, R.PatchOutliers)
    assert prior.weight == pytest.approx(p.patch_prior_layers * p.prior_strength / len(every_block(setting.subject)))
    shown = {k: torch.cat([setting.train[k], setting.train[k]])[:p.samples] for k in p.kinds}
    batch = torch.cat([shown[k] for k in p.kinds])  # in the order of the targets: each image under its kind's mixture
    mine = torch.cat([R.PatchOutliers(prior.weight, mixtures[k])(shown[k]) for k in p.kinds])
    assert torch.allclose(prior(batch), mine)
    assert not torch.allclose(mixtures[p.kinds[0]].means, mixtures[p.kinds[1]].means)
    off = dataclasses.replace(p, patch_prior_layers=0)
    assert dataclasses.replace(setting, protocol=off).patch_prior() == []
    assert N.natural_setting(setting.subject, off).statistics.patches == {}  # nothing fitted that no row reads
    given = []
    match = N.DM.match_in_outline
    monkeypatch.setattr(N.DM, "match_in_outline", lambda *a, **kw: given.append(kw["penalties"]) or match(*a, **kw))
    extra = R.total_variation(0.1)
    N.in_drawn_silhouette(setting, penalties=[extra])
    [patches, then] = given[-1]  # the row's prior, then an exploration's
    assert isinstance(patches, R.PatchOutliers) and patches.weight == prior.weight and then is extra


def test_the_silhouette_rows_object_and_backdrop_are_deep_decoders_each_on_its_own_colours(setting, monkeypatch):
    import dataclasses

    from stochvis.optvis import params as P
    from stochvis.optvis.decoder_param import DecoderParam

    p, n = setting.protocol, len(setting.protocol.targets())
    parts = {"foreground": ("object_decoder_detail", setting.cutout_colour_decoder, "cutout_colours"),
             "backdrop": ("backdrop_decoder_detail", setting.class_colour_decoder, "class_colours")}
    for field, factory, colours in parts.values():
        made = factory()(batch=n, size=p.size, seed=0)
        assert isinstance(made, DecoderParam) and made.detail == getattr(p, field) == 0.5
        assert made.resolution == p.size // 2 and made.fine is not None
        assert torch.allclose(made.color_offset, torch.logit(P.ColourStatistics.stack(
            setting.per_image(getattr(setting.statistics, colours))).mean))  # the cut-outs' / the composites' colours
    given = []
    match = N.DM.match_in_outline
    monkeypatch.setattr(N.DM, "match_in_outline", lambda *a, **kw: given.append(kw) or match(*a, **kw))
    row = N.in_drawn_silhouette(setting)
    for passed, (field, factory, _) in parts.items():
        fourier = dataclasses.replace(setting, protocol=dataclasses.replace(p, **{field: None}))
        before = N.in_drawn_silhouette(fourier)
        assert isinstance(given[0][passed](batch=n, size=p.size), DecoderParam)
        assert isinstance(given[-1][passed](batch=n, size=p.size), P.FFTParam)  # None: the Fourier image, as before
        assert any(not torch.equal(row[k], before[k]) for k in row)
        with pytest.raises(ValueError, match="Fourier image"):
            getattr(fourier, factory.__name__)()
