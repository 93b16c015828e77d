"""Run the notebooks in order with papermill and write an HTML report.

``python -m stochvis.report`` is what ``make report`` calls; the test suite calls
:func:`run_notebook` with ``quick=True`` on every notebook, so a broken notebook fails CI.
"""

from __future__ import annotations

import argparse
import html
import sys
import time
from pathlib import Path

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
    failure: CellExecutionError | None = None
    try:
        client.execute()
    except CellExecutionError as error:
        failure = error
    finally:
        nbformat.write(notebook, str(output))
    if failure is not None:
        index, source = _failed_cell(notebook)
        raise NotebookFailed(
            f"{path.name}: cell {index} failed with {failure.ename}: {failure.evalue}\n"
            f"--- cell source ---\n{source}\n(executed copy with the traceback: {output})"
        ) from failure
    return output


def _failed_cell(notebook) -> tuple[int, str]:
    """(1-based index among code cells, source) of the first code cell with an error output."""
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
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


def write_index(pages: list[tuple[Path, float]], target: Path, quick: bool) -> Path:
    rows = "\n".join(
        f'<li><a href="{html.escape(page.name)}">{html.escape(page.stem)}</a> ({seconds / 60:.1f} min)</li>'
        for page, seconds in pages
    )
    mode = "quick smoke run" if quick else "full quality"
    target.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>stochvis report</title></head><body>"
        f"<h1>stochvis report</h1><p>{mode}, generated {time.strftime('%Y-%m-%d %H:%M')}.</p>"
        f"<ol>{rows}</ol></body></html>",
        encoding="utf-8",
    )
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every notebook and write report/ and figures/.")
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, few steps")
    parser.add_argument("--only", nargs="*", help="notebook name prefixes to run (default: all)")
    parser.add_argument("--figures", type=Path, default=FIGURES)
    parser.add_argument("--output", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    selected = [p for p in notebooks() if not args.only or any(p.name.startswith(o) for o in args.only)]
    if not selected:
        print(f"no notebooks selected in {NOTEBOOKS}", file=sys.stderr)
        return 2
    pages: list[tuple[Path, float]] = []
    for number, path in enumerate(selected, start=1):
        print(f"[{number}/{len(selected)}] {path.name} ...", flush=True)
        start = time.perf_counter()
        try:
            executed = run_notebook(path, args.output, quick=args.quick, figures_dir=args.figures, progress=True)
        except NotebookFailed as error:
            print(f"report stopped: {error}", file=sys.stderr)
            return 1
        seconds = time.perf_counter() - start
        pages.append((to_html(executed), seconds))
        print(f"[{number}/{len(selected)}] {path.name} done in {seconds / 60:.1f} min", flush=True)
    index = write_index(pages, args.output / "index.html", args.quick)
    total = sum(s for _, s in pages) / 60
    print(f"report: {index} ({total:.1f} min in all); figures in {args.figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
