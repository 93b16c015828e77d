"""What every methods table shares: the verdict rule against a baseline, where two judges disagree, and
the images file that lets anyone re-score a table with a judge of their own.

Why one home: the Fashion table, the ImageNet transfer table and the natural-image table state their
verdicts the same way; written once here, a reader compares them knowing the rule did not change.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from stochvis.evaluation.metrics import BETTER, summarize

# The hypothesis of the source documents: statistics-driven images beat the baseline on all three.
HYPOTHESIS = {"fid": min, "plausibility": max, "judge_confidence": max}
REALISM = ("judge_confidence", "fid", "plausibility")


def disagreements(first: Sequence[dict], second: Sequence[dict], *, baseline: str, real: str,
                  names: tuple[str, str] = ("judge", "judge2"), metrics_: Sequence[str] = REALISM) -> list[str]:
    """Where two judges disagree: per realism measure, the rank correlation of the methods (the ``real``
    row left out) and the methods that beat ``baseline`` under one judge but not the other."""
    from scipy.stats import spearmanr

    a = {e["method"]: e for e in first if e["method"] != real}
    b = {e["method"]: e for e in second if e["method"] != real}
    methods = [m for m in a if m in b]
    lines = []
    for metric in metrics_:
        x = [a[m][f"{metric}_mean"] for m in methods]
        y = [b[m][f"{metric}_mean"] for m in methods]
        rho = spearmanr(x, y).statistic if len(methods) > 2 else math.nan
        pick = BETTER[metric]
        flips = [m for m in methods if m != baseline and
                 (pick(a[m][f"{metric}_mean"], a[baseline][f"{metric}_mean"]) == a[m][f"{metric}_mean"])
                 != (pick(b[m][f"{metric}_mean"], b[baseline][f"{metric}_mean"]) == b[m][f"{metric}_mean"])]
        best_a, best_b = (pick(methods, key=lambda m, d=d: d[m][f"{metric}_mean"]) for d in (a, b))
        lines.append(f"{metric:17s} rank correlation of the methods between {names[0]} and {names[1]}: {rho:.2f}; "
                     f"best: {best_a} / {best_b}; vs {baseline}, the judges disagree on: {', '.join(flips) or 'none'}")
    return lines


def verdict(summary: Sequence[dict], statistics_methods: Sequence[str], *, baseline: str, real: str,
            better: Mapping = BETTER) -> tuple[dict[str, bool], list[str]]:
    """Does each statistics-driven method beat ``baseline`` on all of :data:`HYPOTHESIS` that the judge measures
    (a judge with no classifier head has no confidence)? With the lines that say why (the best method per
    measure in ``better``, beside the ``real`` row's value)."""
    by_method = {entry["method"]: entry for entry in summary}
    lines = []
    methods = [m for m in by_method if m != real]
    for metric, pick in better.items():
        if math.isnan(by_method[baseline].get(f"{metric}_mean", math.nan)):
            continue
        winner = pick(methods, key=lambda m: by_method[m][f"{metric}_mean"])
        real_value = by_method[real][f"{metric}_mean"] if real in by_method else math.nan
        lines.append(f"{metric:18s} best: {winner:34s} {by_method[winner][f'{metric}_mean']:.3f}"
                     + ("" if math.isnan(real_value) else f"   (real images: {real_value:.3f})"))
    base = by_method[baseline]
    verdicts = {}
    lines.append("")
    for method in statistics_methods:
        if method not in by_method:
            continue
        measured = {m: p for m, p in HYPOTHESIS.items() if not math.isnan(base.get(f"{m}_mean", math.nan))}
        mine = {metric: by_method[method][f"{metric}_mean"] for metric in measured}  # a judge with no head: realism only
        wins = {metric: pick(mine[metric], base[f"{metric}_mean"]) == mine[metric] for metric, pick in measured.items()}
        verdicts[method] = all(wins.values())
        lines.append(f"{method:34s} vs {baseline}: " + ", ".join(
            f"{metric} {mine[metric]:.3f} vs {base[f'{metric}_mean']:.3f} ({'better' if win else 'worse'})"
            for metric, win in wins.items()))
    held = sum(verdicts.values())
    lines.append(f"\nHypothesis (statistics-driven more realistic than {baseline} on FID-like, plausibility AND judge "
                 f"confidence): holds for {held} of {len(verdicts)} statistics-driven methods"
                 + (f" ({', '.join(m for m, v in verdicts.items() if v)})" if held else "")
                 + ("; supported." if held == len(verdicts) else "; not supported for all." if held else "; rejected."))
    return verdicts, lines


def save_images(samples: Mapping[str, Mapping], path: str | Path, *, classes: Sequence[str]) -> Path:
    """Every method's images as uint8 safetensors, keys ``method/class`` (the class as the table names it),
    with the class names in the metadata, so anyone can re-score them with a judge of their own."""
    from safetensors.torch import save

    from stochvis.assets import atomic_write_bytes

    tensors = {f"{method}/{c}": (images.detach().float().cpu().clamp(0, 1) * 255).round().to(torch.uint8).contiguous()
               for method, by_class in samples.items() for c, images in by_class.items()}
    path = Path(path)
    atomic_write_bytes(path, save(tensors, metadata={"stochvis": json.dumps({"classes": list(classes)})}))
    return path


def load_images(path: str | Path) -> dict[str, dict[str, torch.Tensor]]:
    """{method: {class: images in [0, 1]}} from :func:`save_images`' file: a table's images, to score again."""
    from safetensors.torch import load_file

    samples: dict[str, dict[str, torch.Tensor]] = {}
    for key, images in load_file(str(path)).items():
        method, _, kind = key.rpartition("/")
        samples.setdefault(method, {})[kind] = images.float() / 255
    return samples


def _class_mean(rows: Sequence[dict], method: str, judge: str, metric: str) -> float:
    """A method's ``metric`` under one judge, the mean over its classes (NaN classes left out; NaN if none)."""
    values = [r[metric] for r in rows if r["method"] == method and r["judge"] == judge and not math.isnan(r[metric])]
    return sum(values) / len(values) if values else math.nan


def goal_lines(rows: Sequence[dict], candidates: Sequence[str], *, rivals: Sequence[str], peer: str, real: str,
               confidence_share: float = 0.8, novelty: float = 0.8) -> list[str]:
    """A goal per candidate row (rows of a table: method × class × judge), one line each with what was missed
    and by how much: beat every one of ``rivals`` on FID-like and plausibility under every judge, judge
    confidence ≥ ``confidence_share`` × the ``real`` row's, novelty ≥ ``novelty``, and FID-like below ``peer``'s.
    Rows of a study that ran only some methods are compared with the rivals they have, and a first line names
    the absent ones."""
    def mean(method, judge, metric):
        return _class_mean(rows, method, judge, metric)

    judges = list(dict.fromkeys(r["judge"] for r in rows))
    present = set(r["method"] for r in rows)
    ran = [m for m in rivals if m in present]
    absent = [m for m in (*rivals, peer, real) if m not in present]
    lines = [f"(not in these rows, so not compared: {', '.join(absent)})"] if absent else []
    for method in (m for m in candidates if m in present):
        misses = []
        for judge in judges:
            fid, plaus = mean(method, judge, "fid"), mean(method, judge, "plausibility")
            for rival in ran + ([peer] if peer in present else []):
                if not fid < mean(rival, judge, "fid"):
                    misses.append(f"{judge}: FID-like {fid:.1f} vs {rival} {mean(rival, judge, 'fid'):.1f}")
            for rival in ran:
                if not plaus > mean(rival, judge, "plausibility"):
                    misses.append(f"{judge}: plausibility {plaus:.3f} vs {rival} {mean(rival, judge, 'plausibility'):.3f}")
            conf, real_conf = mean(method, judge, "judge_confidence"), mean(real, judge, "judge_confidence")
            if not math.isnan(real_conf) and not conf >= confidence_share * real_conf:
                misses.append(f"{judge}: confidence {conf:.2f} < {confidence_share} × real {real_conf:.2f}")
            if not mean(method, judge, "novelty") >= novelty:
                misses.append(f"{judge}: novelty {mean(method, judge, 'novelty'):.2f} < {novelty}")
        lines.append(f"{method}: " + ("meets the goal under every judge" if not misses else
                                      f"misses {len(misses)} condition(s): " + "; ".join(misses)))
    return lines


def against_peer(rows: Sequence[dict], candidates: Sequence[str], *, peer: str, measure: str) -> list[str]:
    """Per candidate row, its ``measure`` (mean over classes) against ``peer``'s under each judge, both values and
    whether it is better (:data:`~stochvis.evaluation.metrics.BETTER`): a second opinion beside the goal, e.g. KID
    where the goal reads FID-like, so that a verdict that rests on one measure's bias shows."""
    if measure not in BETTER:
        raise ValueError(f"measure {measure!r}: one of {', '.join(BETTER)}")

    def mean(method, judge):
        return _class_mean(rows, method, judge, measure)

    judges = list(dict.fromkeys(r["judge"] for r in rows))
    present = set(r["method"] for r in rows)
    if peer not in present:
        return [f"(no {peer} row here: {measure} not compared)"]
    lines = []
    for method in (m for m in candidates if m in present):
        cells = []
        for judge in judges:
            mine, theirs = mean(method, judge), mean(peer, judge)
            better = BETTER[measure]((mine, theirs)) == mine and mine != theirs
            cells.append(f"{judge} {mine:.4g} vs {theirs:.4g} ({'better' if better else 'not better'})")
        lines.append(f"{method}: {measure} against {peer}: " + "; ".join(cells))
    return lines


SEED_SUMMARY = (("judge_confidence", "conf", 2), ("fid", "FID", 1), ("plausibility", "plaus", 3),
                ("diversity", "div", 1), ("novelty", "novelty", 2), ("seconds_per_image", "s/image", 1))


def seed_summary_lines(rows: Sequence[dict], shown: Sequence[tuple[str, str, int]] = SEED_SUMMARY) -> list[str]:
    """Per judge and method: the means over classes (and over seeds, ± their std when there are several),
    both by :func:`~stochvis.evaluation.metrics.summarize`; ``shown``: (column, label, digits) printed."""
    columns = [column for column, _, _ in shown]
    seeds = list(dict.fromkeys(r["seed"] for r in rows))
    lines = []
    for judge in dict.fromkeys(r["judge"] for r in rows):
        per_seed = [{"method": e["method"], **{c: e[f"{c}_mean"] for c in columns}} for seed in seeds
                    for e in summarize([r for r in rows if r["judge"] == judge and r["seed"] == seed], columns)]
        lines.append(f"== {judge}")
        for e in summarize(per_seed, columns):
            cells = [f"{label} —" if math.isnan(e[f"{c}_mean"]) else f"{label} {e[f'{c}_mean']:.{digits}f}"
                     + (f" ± {e[f'{c}_std']:.{digits}f}" if e["classes"] > 1 else "") for c, label, digits in shown]
            lines.append(f"  {e['method']:44s} " + "  ".join(cells))
    return lines
