"""Run the notebooks in order with papermill and write an HTML report.

``python -m stochvis.report`` is what ``make report`` calls; the test suite calls
:func:`run_notebook` with ``quick=True`` on every notebook, so a broken notebook fails CI.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from stochvis.assets import atomic_write_bytes

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
FIGURES = ROOT / "figures"
REPORT = ROOT / "report"


class NotebookFailed(RuntimeError):
    """A notebook raised: names the notebook and the cell that broke."""


def notebooks(directory: Path = NOTEBOOKS) -> list[Path]:
    """The story's notebooks, in order (their file names start with the step number)."""
    return sorted(p for p in directory.glob("[0-9][0-9]_*.ipynb"))


def run_notebook(path: Path, output_dir: Path, *, quick: bool, figures_dir: Path,
                 parameters: dict | None = None, progress: bool = False, cell_timeout: int = 1800) -> Path:
    """Execute one notebook: papermill injects ``quick``, ``figures_dir`` (and ``parameters``)
    after the cell tagged ``parameters``; nbclient runs it with ``cwd`` = the notebook's folder.

    We run the cells with nbclient ourselves rather than ``papermill.execute_notebook``: papermill
    2.7's client waits for a ``kernel_info`` reply after the last cell that sometimes never comes
    (nteract/papermill#711), which hung whole runs here.
    """
    import nbformat
    import papermill
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    output_dir.mkdir(parents=True, exist_ok=True)
    figures_dir.mkdir(parents=True, exist_ok=True)
    output = output_dir / path.name
    params = {"quick": quick, "figures_dir": str(Path(figures_dir).resolve()), **(parameters or {})}
    notebook = papermill.execute_notebook(str(path), None, parameters=params, prepare_only=True,
                                          progress_bar=False, kernel_name="python3")
    client = NotebookClient(notebook, timeout=cell_timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    bar = _cell_progress(client, notebook, path.name) if progress else None
    failure: CellExecutionError | None = None
    try:
        client.execute()
    except CellExecutionError as error:
        failure = error
    finally:
        if bar is not None:
            bar.close()
        nbformat.write(notebook, str(output))
    if failure is not None:
        index, source = _failed_cell(notebook)
        raise NotebookFailed(
            f"{path.name}: cell {index} failed with {failure.ename}: {failure.evalue}\n"
            f"--- cell source ---\n{source}\n(executed copy with the traceback: {output})"
        ) from failure
    return output


def _cell_progress(client, notebook, name: str):
    """A tqdm bar over the notebook's code cells, advanced by nbclient's cell hooks."""
    from tqdm.auto import tqdm

    code_cells = sum(1 for c in notebook.cells if c.cell_type == "code" and c.source.strip())
    bar = tqdm(total=code_cells, desc=f"  {name}", unit="cell", leave=False)

    def executed(cell, **_):
        if cell.cell_type == "code" and cell.source.strip():
            bar.update()

    client.on_cell_executed = executed
    return bar


def _failed_cell(notebook) -> tuple[int, str]:
    """(1-based index among the code cells of the notebook as written, source) of the first code
    cell with an error output. The parameters cell papermill injects is not counted."""
    code_cells = [c for c in notebook.cells
                  if c.cell_type == "code" and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    for index, cell in enumerate(code_cells, start=1):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return index, cell.source
    return -1, ""


def to_html(notebook: Path) -> Path:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_filename(str(notebook))
    target = notebook.with_suffix(".html")
    target.write_text(body, encoding="utf-8")
    return target


@dataclass
class NotebookRun:
    """One notebook of a report run: its HTML page, its wall time, and whether it failed."""

    name: str
    page: Path
    seconds: float
    failed: bool = False


def figure_groups(figures_dir: Path, names: list[str]) -> dict[str, list[Path]]:
    """The PNGs in ``figures_dir``, grouped by the notebook that writes them (figures are named
    ``NN_*.png`` after their notebook ``NN_name``); the rest under "other". Empty groups are left out."""
    prefixes = {name[:3]: name for name in sorted(names)}
    groups: dict[str, list[Path]] = {name: [] for name in prefixes.values()}
    for figure in sorted(Path(figures_dir).glob("*.png")):
        groups.setdefault(prefixes.get(figure.name[:3], "other"), []).append(figure)
    return {name: files for name, files in groups.items() if files}


COMPARISON_COLUMNS = ["target_confidence", "judge_confidence", "fid", "plausibility", "diversity", "seconds_per_image"]


def write_index(runs: list[NotebookRun], target: Path, quick: bool, figures_dir: Path = FIGURES) -> Path:
    """report/index.html, read as the report: per notebook its title, its headline findings (what the
    notebook prints and states in cells tagged ``finding``) and each figure with its caption; the
    comparison table as an HTML table; a table of the notebooks (link, minutes). Links are relative,
    so the folder can be moved whole with figures/ beside it."""
    from stochvis.report_page import csv_table, read_story

    target.parent.mkdir(parents=True, exist_ok=True)

    def link(path: Path) -> str:
        return html.escape(Path(os.path.relpath(Path(path).resolve(), target.parent.resolve())).as_posix())

    rows = "\n".join(
        f'<tr><td><a href="{link(run.page)}">{html.escape(run.name)}</a></td>'
        f'<td class="num">{run.seconds / 60:.1f}</td><td>{"failed" if run.failed else "ok"}</td></tr>'
        for run in runs
    )
    total = sum(run.seconds for run in runs) / 60
    stories = {run.name: read_story(run.page.with_suffix(".ipynb")) for run in runs}
    sections = []
    names = [run.name for run in runs] + [p.stem for p in notebooks()]
    for name, files in figure_groups(figures_dir, names).items():
        story = stories.get(name) or read_story(target.parent / f"{name}.ipynb")
        figures = "".join(
            f'<figure><a href="{link(f)}"><img src="{link(f)}" alt="{html.escape(f.name)}" loading="lazy"></a>'
            f'<figcaption><b>{html.escape(f.name)}</b> {html.escape(story.captions.get(f.name, ""))}</figcaption></figure>'
            for f in files
        ) or "<p>(no figures)</p>"
        findings = "".join(f"<pre class='finding'>{html.escape(text)}</pre>" for text in story.findings)
        table = ""
        if name.startswith("08"):
            table = csv_table(Path(figures_dir) / "08_comparison.csv", COMPARISON_COLUMNS)
            table = f"<h4>The comparison table (mean ± std over classes)</h4>{table}" if table else ""
        title = html.escape(story.title or name)
        sections.append(f"<section><h3>{title}</h3>{findings}{table}<div class='gallery'>{figures}</div></section>")
    mode = "quick smoke run" if quick else "full quality"
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:.3em .8em}.num{text-align:right}.gallery{display:flex;"
             "flex-wrap:wrap;gap:.8em}figure{margin:0;width:360px}figure img{width:360px;max-height:300px;"
             "object-fit:contain;border:1px solid #ddd}figcaption{font-size:.8em}"
             "pre.finding{background:#f6f8fa;padding:.6em;white-space:pre-wrap;font-size:.8em}"
             "table.results td,table.results th{font-size:.85em}")
    target.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>stochvis report</title><style>{style}</style>"
        f"</head><body><h1>stochvis report</h1><p>{mode}, generated {time.strftime('%Y-%m-%d %H:%M')}.</p>"
        f"<h2>Notebooks</h2><table><tr><th>notebook</th><th>minutes</th><th></th></tr>{rows}"
        f"<tr><th>total</th><td class='num'>{total:.1f}</td><td></td></tr></table>"
        f"<h2>Findings and figures</h2><p>Figures in <code>{link(figures_dir)}</code>, by the notebook that writes "
        f"them; findings are what each notebook printed or stated in this run.</p>"
        f"{''.join(sections)}</body></html>",
        encoding="utf-8",
    )
    return target


def write_timings(runs: list[NotebookRun], target: Path, quick: bool, wall_minutes: float | None = None) -> Path:
    """``timings.json``: minutes per notebook, for the README's table. A run of some notebooks
    (``--only``) updates their entries in an existing file of the same mode and keeps the others."""
    mode = "quick" if quick else "full"
    minutes: dict[str, float] = {}
    if target.exists():
        previous = json.loads(target.read_text())
        if previous.get("mode") == mode:
            minutes = previous.get("minutes", {})
    minutes.update({run.name: round(run.seconds / 60, 2) for run in runs if not run.failed})
    minutes = dict(sorted(minutes.items()))
    record = {"mode": mode, "cpu_count": os.cpu_count(), "minutes": minutes,
              "total_minutes": round(sum(minutes.values()), 2)}
    if wall_minutes is not None:  # notebooks run side by side: the sum of their minutes is more than the wait
        record["wall_minutes"] = round(wall_minutes, 2)
    atomic_write_bytes(target, (json.dumps(record, indent=2) + "\n").encode())
    return target


# Notebooks that read what another writes: 04 loads the Tux Paint statistics 03 collects (the same cache
# file), so it starts only after 03; run side by side, it would collect them a second time.
NEEDS = {"04_sampling": ("03_statistics",)}
# Notebooks started before the others, longest first: 08 alone takes a third of the report, and run last it
# would leave the second core idle for its whole length (its table runs in two worker processes of its own,
# but its set-up, its ImageNet section and its figures use one core). Reads no other notebook's files.
FIRST = ("08_comparison", "09_natural")


def run_all(paths: list[Path], output_dir: Path, *, quick: bool, figures_dir: Path, jobs: int = 1
            ) -> tuple[list[NotebookRun], int]:
    """Run ``paths`` with at most ``jobs`` kernels at once, the :data:`FIRST` ones first and the rest in
    order, a notebook starting once the ones it :data:`NEEDS` are done. Why side by side: a kernel's start-up, imports, figure drawing and file writing
    use one core, so on a 2-core machine two notebooks together finish sooner than one after the other
    (each notebook's own minutes then include the other's load). The first failure stops new starts;
    (runs in notebook order, exit status)."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    total, names = len(paths), [p.stem for p in paths]
    waiting = sorted(paths, key=lambda p: FIRST.index(p.stem) if p.stem in FIRST else len(FIRST))  # stable
    running, done, runs, status = {}, set(), {}, 0

    def one(path: Path) -> NotebookRun:
        start = time.perf_counter()
        try:
            executed = run_notebook(path, output_dir, quick=quick, figures_dir=figures_dir, progress=jobs == 1)
        except NotebookFailed as error:
            print(f"report stopped: {error}", file=sys.stderr)
            return NotebookRun(path.stem, to_html(output_dir / path.name), time.perf_counter() - start, failed=True)
        return NotebookRun(path.stem, to_html(executed), time.perf_counter() - start)

    with ThreadPoolExecutor(jobs) as pool:
        while waiting or running:
            ready = [p for p in waiting if all(n in done or n not in names for n in NEEDS.get(p.stem, ()))]
            while ready and len(running) < jobs and not status:
                path = ready.pop(0)
                waiting.remove(path)
                print(f"[{names.index(path.stem) + 1}/{total}] {path.name} ...", flush=True)
                running[pool.submit(one, path)] = path
            if not running:
                break  # a failure stopped new starts
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                path = running.pop(future)
                run = runs[path.stem] = future.result()
                done.add(path.stem)
                if run.failed:
                    status = 1
                else:
                    print(f"[{names.index(path.stem) + 1}/{total}] {path.name} done in {run.seconds / 60:.1f} min",
                          flush=True)
    return [runs[n] for n in names if n in runs], status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every notebook and write report/ and figures/.")
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, few steps")
    parser.add_argument("--only", nargs="*", help="notebook name prefixes to run (default: all)")
    parser.add_argument("--figures", type=Path, default=None,
                        help=f"where figures go (default: {FIGURES.name}/, or OUTPUT/figures-quick with --quick, so a "
                             "smoke run never overwrites the committed figures)")
    parser.add_argument("--output", type=Path, default=REPORT)
    parser.add_argument("--timings", action="store_true", help="also write OUTPUT/timings.json (minutes per notebook)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run side by side (each in its own kernel)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.figures is None:
        args.figures = args.output / "figures-quick" if args.quick else FIGURES
    selected = [p for p in notebooks() if not args.only or any(p.name.startswith(o) for o in args.only)]
    if not selected:
        print(f"no notebooks selected in {NOTEBOOKS}", file=sys.stderr)
        return 2
    runs, status = run_all(selected, args.output, quick=args.quick, figures_dir=args.figures, jobs=args.jobs)
    index = write_index(runs, args.output / "index.html", args.quick, args.figures)
    if args.timings:
        wall = (time.perf_counter() - started) / 60 if not args.only else None
        print(f"timings: {write_timings(runs, args.output / 'timings.json', args.quick, wall)}")
    total = (time.perf_counter() - started) / 60
    print(f"report: {index} ({total:.1f} min in all){' (stopped at a failure)' if status else ''}; "
          f"figures in {args.figures}")
    return status


if __name__ == "__main__":
    sys.exit(main())
