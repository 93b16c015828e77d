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

from stochvis.evaluation.metrics import BETTER

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
