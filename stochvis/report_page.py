"""What report/index.html says about each notebook: its headline findings and a caption per figure.

Why read them out of the executed notebooks: the numbers and verdicts are what the notebooks print
and state, and the captions are the prose the story already has. Nothing is restated by hand, so the
page cannot drift from the run it describes.

* Findings: the text output of code cells tagged ``finding``, and markdown cells tagged ``finding``
  (the notebooks' "What we measured" paragraphs).
* Captions: a figure ``NN_name.png`` is captioned by the markdown just above the code cell that
  writes it — its heading and first sentence.
"""

from __future__ import annotations

import csv
import html
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

FINDING_TAG = "finding"
_PNG = re.compile(r"(\d\d_[\w-]+\.png)")


@dataclass
class NotebookStory:
    """The parts of one executed notebook the report page shows."""

    title: str = ""
    findings: list[str] = field(default_factory=list)
    captions: dict[str, str] = field(default_factory=dict)


def _first_sentence(markdown: str) -> str:
    lines = [line.strip() for line in markdown.strip().splitlines()]
    heading = ""
    if lines and lines[0].startswith("#"):
        heading, lines = lines[0].lstrip("#").strip(), lines[1:]
    text = " ".join(line for line in lines if line)
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0] if text else ""
    sentence = re.sub(r"[*`]", "", sentence)
    return f"{heading}: {sentence}" if heading and sentence else heading or sentence


def read_story(path: str | Path) -> NotebookStory:
    """Title, findings and figure captions of an executed notebook (a missing file gives an empty story)."""
    import nbformat

    path = Path(path)
    if not path.exists():
        return NotebookStory()
    notebook = nbformat.read(path, as_version=4)
    story = NotebookStory()
    last_markdown = ""
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "markdown":
            if not story.title and cell.source.lstrip().startswith("# "):
                story.title = cell.source.lstrip().splitlines()[0].lstrip("#").strip()
            else:
                last_markdown = cell.source
            if FINDING_TAG in tags:
                story.findings.append(cell.source.strip())
            continue
        if cell.cell_type != "code":
            continue
        if FINDING_TAG in tags:
            text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
            if text.strip():
                story.findings.append(text.strip())
        for name in dict.fromkeys(_PNG.findall(cell.source)):
            story.captions.setdefault(name, _first_sentence(last_markdown))
    return story


def csv_table(path: str | Path, columns: list[str], *, group: str = "method") -> str:
    """An HTML table of mean ± std per ``group`` over the rows of a metrics CSV (one row per method and class),
    aggregated by :func:`stochvis.evaluation.metrics.summarize` (population std, as this page always showed)."""
    from stochvis.evaluation.metrics import summarize

    path = Path(path)
    if not path.exists():
        return ""
    with open(path, newline="") as handle:
        rows = [{group: row[group], **{c: _number(row.get(c, "nan")) for c in columns}} for row in csv.DictReader(handle)]
    summary = summarize(rows, columns, group=group, ddof=0)

    def cell(entry: dict, column: str) -> str:
        mean, std = entry[f"{column}_mean"], entry[f"{column}_std"]
        if math.isnan(mean):
            return ""
        digits = 0 if abs(mean) >= 20 else 3
        return f"{mean:.{digits}f} ± {std:.{digits}f}"

    head = "".join(f"<th>{html.escape(c)}</th>" for c in [group, *columns])
    body = "".join(f"<tr><td>{html.escape(entry[group])}</td>" + "".join(f"<td class='num'>{cell(entry, c)}</td>"
                                                                         for c in columns) + "</tr>"
                   for entry in summary)
    return f"<table class='results'><tr>{head}</tr>{body}</table>"


def _number(text: str | None) -> float:
    """A CSV cell as a float; empty or unparsable cells count as missing (NaN)."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan
