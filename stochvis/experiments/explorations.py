"""Explorations beside the natural table: candidate designs scored by the table's rule on *training* composites
(:func:`select_on_training`, here too: the rule every ``scripts/choose_*.py`` applies) — or, with the rule's own
split, on *validation* composites that are not the statistics' source — and, seen but never used to choose, on the
held-out ones, over optimisation seeds.

Why one home: every ``scripts/try_*.py`` asks one question of the table's protocol (a term, a transform, a layer
set, a parameterisation) and must answer it the same way — the same composites and statistics, the same judges,
the training-side ranking printed before any held-out number — so the loop is written once, here, and a script
holds only its question: its candidates and its docstring with what it measured.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import torch

from stochvis.evaluation import metrics
from stochvis.evaluation.workers import in_workers
from stochvis.experiments import natural

Row = Callable[[natural.Setting], dict[str, torch.Tensor]]  # a Setting -> {kind: images}
Candidates = Mapping[str, Row]


def select_on_training(s: natural.Setting, candidates: Mapping[str, Mapping[str, torch.Tensor]], judges: Sequence[natural.Judge],
                       *, incumbent_tolerance: float | None = None) -> tuple[str, list[str]]:
    """The rule a design choice of a row is made by, never looking at held-out composites: each candidate's
    images ({name: {kind: images}}) are scored by every judge against the kind's *training* composites beyond
    its first ``samples`` (those are shown as a "training composites" row, the floor), and the candidate with
    the best mean rank over FID-like and plausibility under every judge wins (:func:`choose`). Returns it and the
    printed lines.

    A setting with validation composites (``Protocol(validation=True)``) is scored against those instead: the
    training composites are then the statistics' source, and a candidate that copies more of them (their curves,
    their colours) would be scored against the very images it was fitted to (``scripts/try_object_colours.py``)."""
    shown = s.protocol.samples
    samples = {**candidates, "training composites": {k: v[:shown] for k, v in s.train.items()}}
    reference = {k: v[shown:] for k, v in s.train.items()} if s.validation is None else s.validation
    against = "training composites" if s.validation is None else "validation composites"
    selection = dataclasses.replace(s, held_out=reference)
    rows = natural.table(selection, samples, {}, judges)  # no seconds: every row's is NaN
    summaries, lines = {}, []
    for judge in dict.fromkeys(r["judge"] for r in rows):
        summary = {e["method"]: e for e in metrics.summarize([r for r in rows if r["judge"] == judge],
                                                             ("judge_confidence", "fid", "plausibility"))}
        summaries[judge] = {name: summary[name] for name in candidates}
        lines.append(f"== {judge} (against {against})")
        lines += [f"  {name:36s} conf {e['judge_confidence_mean']:.2f}  FID-like {e['fid_mean']:7.1f}  "
                  f"plausibility {e['plausibility_mean']:.3f}" for name, e in summary.items()]
    chosen, choice_lines = choose(summaries, incumbent_tolerance=incumbent_tolerance)
    return chosen, lines + choice_lines


def choose(summaries: Mapping[str, Mapping[str, Mapping[str, float]]], *, incumbent_tolerance: float | None = None
           ) -> tuple[str, list[str]]:
    """The rule's decision from each judge's means ({judge: {candidate: {"fid_mean", "plausibility_mean"}}}, every
    judge the same candidates in the same order): the best mean rank over FID-like (lower is better) and
    plausibility (higher) under every judge. Returns the chosen name and the lines that say why.

    ``incumbent_tolerance`` (a fraction, e.g. 0.05): the first candidate is the incumbent, and no other may
    replace it whose FID-like under any judge is more than that fraction above the incumbent's, or whose
    plausibility is more than that fraction below it — a rank counts a 1% win and a 23% loss alike
    (``scripts/try_smoother_backdrop.py``), and a loss that large in one family's features is a loss of realism,
    whatever the other judges say. None (the rule of every script before ``scripts/try_calm_backdrop.py``): ranks
    alone. **A tie keeps the incumbent** (the first of the best): the rule's data have not told them apart, and the
    practice since ``scripts/try_deep_decoder_with_detail.py`` is to ask the same candidates again of more seeds, the
    rule fixed before that run (``scripts/try_deep_decoder_detail_on_four_seeds.py``); the lines say so."""
    if incumbent_tolerance is not None and not 0 <= incumbent_tolerance < 1:
        raise ValueError(f"incumbent_tolerance {incumbent_tolerance!r}: a fraction in [0, 1), or None for ranks alone")
    if not summaries:
        raise ValueError("no judge's summary to choose by")
    names = list(next(iter(summaries.values())))
    if not names or any(list(summary) != names for summary in summaries.values()):
        raise ValueError("every judge must score the same candidates, in the same order")
    ranks: dict[str, list[int]] = {name: [] for name in names}
    refused: dict[str, list[str]] = {}
    for judge, summary in summaries.items():
        for metric, sign in (("fid_mean", 1), ("plausibility_mean", -1)):
            for rank, name in enumerate(sorted(names, key=lambda n: sign * summary[n][metric]), 1):
                ranks[name].append(rank)
        if incumbent_tolerance is None:
            continue
        incumbent = summary[names[0]]
        for name in names[1:]:
            fid, plausible = summary[name]["fid_mean"], summary[name]["plausibility_mean"]
            if fid > (1 + incumbent_tolerance) * incumbent["fid_mean"]:
                refused.setdefault(name, []).append(f"{judge} FID-like {fid / incumbent['fid_mean'] - 1:+.1%}")
            if plausible < (1 - incumbent_tolerance) * incumbent["plausibility_mean"]:
                refused.setdefault(name, []).append(
                    f"{judge} plausibility {plausible / incumbent['plausibility_mean'] - 1:+.1%}")
    mean_rank = {name: sum(r) / len(r) for name, r in ranks.items()}
    lines = [f"refused (more than {incumbent_tolerance:.0%} worse than the incumbent {names[0]!r}): {name}: "
             + ", ".join(why) for name, why in refused.items()]
    chosen = min((n for n in names if n not in refused), key=mean_rank.get)
    tied = [n for n in names if n not in refused and n != chosen and math.isclose(mean_rank[n], mean_rank[chosen])]
    lines.append("mean realism rank: " + ", ".join(f"{n} {r:.2f}" for n, r in mean_rank.items()) + f" → chosen: {chosen}"
                 + (f" (a tie with {', '.join(tied)}: the first stays; ask the same candidates again of more seeds)"
                    if tied else ""))
    return chosen, lines


def explore(base: natural.Setting, candidates: Candidates, judges: Sequence[natural.Judge],
            seeds: Sequence[int] = (0,), *, workers: int = 2, save: str | Path | None = None,
            longest_first: Sequence[str] = (), incumbent_tolerance: float | None = None,
            rule_seeds: int = 1) -> list[str]:
    """The lines an exploration prints: the rule's ranking (what the table's rule would choose) of the images of
    the first ``rule_seeds`` seeds, pooled per kind, then the held-out summary over ``seeds`` (mean ± std over seeds
    when there are several). ``save``: the first seed's images (uint8 safetensors, ``candidate/kind``);
    ``longest_first``: candidates started first so that two workers finish together; ``incumbent_tolerance``: as
    :func:`select_on_training`'s. ``rule_seeds`` > 1: the rule sees that many images per kind for each of its
    one, so a choice rests less on one optimisation seed's draws (``scripts/try_coarser_object_curves.py`` chose
    on one seed and its pooled numbers disagreed)."""
    if not candidates:
        raise ValueError("no candidates to explore: give {name: row}, a row mapping a Setting to {kind: images}")
    seeds = list(seeds)
    if not 1 <= rule_seeds <= len(seeds):
        raise ValueError(f"rule_seeds={rule_seeds}: the rule pools the first 1 to {len(seeds)} of the seeds {seeds}; "
                         f"give more --seeds or fewer rule seeds")
    order = sorted(candidates, key=lambda name: name not in longest_first)
    lines, rows, ruled = [], [], []
    for index, seed in enumerate(seeds):
        s = base.reseeded(seed)
        made = dict(zip(order, in_workers(lambda name, s=s: candidates[name](s), order, workers)))
        runs = {name: made[name] for name in candidates}
        if index < rule_seeds:
            ruled.append(runs)
        if index == rule_seeds - 1:
            if rule_seeds > 1:
                lines.append(f"== the rule on seeds {', '.join(map(str, seeds[:rule_seeds]))}, pooled per kind")
            lines += select_on_training(s, natural.pooled_images(ruled), judges,
                                        incumbent_tolerance=incumbent_tolerance)[1]
        if index == 0 and save:
            natural.save_images(runs, save)
        rows += natural.table(s, runs, {}, judges)
    held = "== held out (seen, never used to choose)"
    if base.validation is not None:
        held += ": images made with the fit part's statistics, not all the training composites' as in the table"
    return [*lines, held, *natural.summary_lines(rows)]


def main(description: str, candidates: Candidates | Callable[[natural.Setting], Candidates], *,
         prepare: Callable[[natural.Setting], natural.Setting] | None = None, longest_first: Sequence[str] = (),
         incumbent_tolerance: float | None = None, validation: bool = False, rule_seeds: int = 1,
         protocol: Mapping[str, object] | None = None, argv: Sequence[str] | None = None) -> None:
    """A script's command line: ``[--seeds ...] [--quick] [--save FILE]``. ``prepare`` extends the table's
    Setting (e.g. ``Setting.with_curves`` for more layers); ``candidates`` may be a function of the prepared
    Setting (for candidates that need statistics of their own); ``validation``: the rule's own split
    (``Protocol(validation=True)``: statistics of the fit part, scored against the validation part), fixed by the
    script before its run; ``rule_seeds``: the rule pools the images of that many of the first seeds (as
    :func:`explore`), fixed by the script too, which then needs at least as many ``--seeds``; ``protocol``: fields of the table's :class:`~stochvis.experiments.natural.Protocol` the
    script ran under where they have changed since (e.g. ``{"object_curves_from": "stem"}``), so that it
    reproduces its recorded numbers."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", nargs="+", type=int, default=list(range(rule_seeds)), metavar="SEED")
    parser.add_argument("--quick", action="store_true", help="the table's smoke protocol (a check that it runs)")
    parser.add_argument("--save", default=None, help="write the first seed's images (uint8 safetensors) here")
    args = parser.parse_args(argv)
    from stochvis.models import load_model

    torch.set_num_threads(1)
    table_protocol = natural.quick_protocol() if args.quick else natural.Protocol()
    base = natural.natural_setting(load_model(natural.SUBJECT),
                                   dataclasses.replace(table_protocol, validation=validation, **(protocol or {})))
    if prepare is not None:
        base = prepare(base)
    made = candidates(base) if callable(candidates) else candidates
    print("\n".join(explore(base, made, natural.load_judges(), args.seeds, save=args.save,
                            longest_first=longest_first, incumbent_tolerance=incumbent_tolerance,
                            rule_seeds=rule_seeds)))
