"""The report runner: a broken notebook is named with its cell; the index links pages and figures;
timings.json keeps other notebooks' minutes when only some are re-run."""

from __future__ import annotations

import json

import nbformat
import pytest

from stochvis import report


def _notebook(path, *sources: str) -> None:
    cells = [nbformat.v4.new_code_cell("quick = False\nfigures_dir = '.'", metadata={"tags": ["parameters"]})]
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                "language_info": {"name": "python"}}
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=metadata), path)


def test_a_failing_cell_is_named_and_the_executed_copy_kept(tmp_path):
    path = tmp_path / "98_broken.ipynb"
    _notebook(path, "x = 1", "raise ValueError('the broken cell')", "y = 2")
    with pytest.raises(report.NotebookFailed) as failure:
        report.run_notebook(path, tmp_path / "out", quick=True, figures_dir=tmp_path / "figures")
    message = str(failure.value)
    # Counted as the user sees the notebook (papermill's injected parameters cell left out).
    assert message.startswith("98_broken.ipynb: cell 3 failed with ValueError: the broken cell"), message
    assert "raise ValueError('the broken cell')" in message
    assert (tmp_path / "out" / "98_broken.ipynb").exists()


def test_index_links_pages_minutes_and_figure_thumbnails(tmp_path):
    figures, output = tmp_path / "figures", tmp_path / "report"
    figures.mkdir()
    for name in ("07_alpha_one.png", "07_alpha_two.png", "zz_loose.png"):
        (figures / name).write_bytes(b"\x89PNG")
    page = output / "07_alpha.html"
    runs = [report.NotebookRun("07_alpha", page, 90.0), report.NotebookRun("08_beta", output / "08_beta.html", 30.0, failed=True)]
    text = report.write_index(runs, output / "index.html", quick=False, figures_dir=figures).read_text()
    assert '<a href="07_alpha.html">07_alpha</a>' in text
    assert "1.5</td><td>ok" in text and "0.5</td><td>failed" in text and "2.0</td>" in text
    assert '<a href="../figures/07_alpha_one.png"' in text and 'src="../figures/07_alpha_two.png"' in text
    groups = report.figure_groups(figures, ["07_alpha", "08_beta"])
    assert [f.name for f in groups["07_alpha"]] == ["07_alpha_one.png", "07_alpha_two.png"]
    assert [f.name for f in groups["other"]] == ["zz_loose.png"] and "08_beta" not in groups


def test_timings_merge_runs_of_the_same_mode(tmp_path):
    target = tmp_path / "timings.json"
    report.write_timings([report.NotebookRun("00_a", tmp_path, 60.0), report.NotebookRun("01_b", tmp_path, 120.0)],
                         target, quick=False)
    report.write_timings([report.NotebookRun("01_b", tmp_path, 30.0),
                          report.NotebookRun("02_c", tmp_path, 6.0, failed=True)], target, quick=False)
    record = json.loads(target.read_text())
    assert record["mode"] == "full" and record["minutes"] == {"00_a": 1.0, "01_b": 0.5}
    assert record["total_minutes"] == 1.5
    report.write_timings([report.NotebookRun("00_a", tmp_path, 6.0)], target, quick=True)
    assert json.loads(target.read_text())["minutes"] == {"00_a": 0.1}, "a quick run must not mix with full timings"


def test_a_quick_run_never_writes_into_the_committed_figures(tmp_path, monkeypatch):
    path = tmp_path / "97_writes.ipynb"
    _notebook(path, "from pathlib import Path\n(Path(figures_dir) / '97_writes_mark.png').write_bytes(b'x')")
    committed = tmp_path / "committed-figures"
    monkeypatch.setattr(report, "notebooks", lambda: [path])
    monkeypatch.setattr(report, "FIGURES", committed)
    assert report.main(["--quick", "--output", str(tmp_path / "report")]) == 0
    assert (tmp_path / "report" / "figures-quick" / "97_writes_mark.png").exists()
    assert not committed.exists()


def test_index_reads_as_the_report_findings_captions_and_the_comparison_table(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "notebooks", lambda: [])
    figures, output = tmp_path / "figures", tmp_path / "report"
    figures.mkdir()
    output.mkdir()
    (figures / "08_beta_table.png").write_bytes(b"\x89PNG")
    (figures / "08_comparison.csv").write_text("method,class,fid,judge_confidence\nA,0,100,0.5\nA,1,200,0.7\nB,0,50,nan\n")
    cells = [nbformat.v4.new_markdown_cell("# 08 · Beta: the story"),
             nbformat.v4.new_markdown_cell("## The table\nEvery method against the baseline. More text here."),
             nbformat.v4.new_code_cell("save(fig, figures / '08_beta_table.png')"),
             nbformat.v4.new_code_cell("print('verdict')", metadata={"tags": ["finding"]}),
             nbformat.v4.new_code_cell("print('not a finding')")]
    cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="Hypothesis holds for 1 of 3\n")]
    cells[4].outputs = [nbformat.v4.new_output("stream", name="stdout", text="noise\n")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), output / "08_beta.ipynb")
    runs = [report.NotebookRun("08_beta", output / "08_beta.html", 60.0)]
    text = report.write_index(runs, output / "index.html", quick=False, figures_dir=figures).read_text()
    assert "08 · Beta: the story" in text and "Hypothesis holds for 1 of 3" in text and "noise" not in text
    assert "The table: Every method against the baseline." in text and "More text" not in text
    assert "<table class='results'>" in text and "150 ± 50" in text and "0.600 ± 0.100" in text


def test_csv_table_aggregates_through_metrics_summarize(tmp_path):
    """The page's table and the notebooks' summaries share one aggregation (metrics.summarize)."""
    from stochvis.evaluation import metrics
    from stochvis.report_page import csv_table

    path = tmp_path / "rows.csv"
    path.write_text("method,class,fid,plausibility\nA,0,100,0.5\nA,1,140,\nB,0,nan,0.25\nB,1,bad,0.75\n")
    table = csv_table(path, ["fid", "plausibility"])
    assert "<td>A</td><td class='num'>120 ± 20</td><td class='num'>0.500 ± 0.000</td>" in table
    assert "<td>B</td><td class='num'></td><td class='num'>0.500 ± 0.250</td>" in table
    rows = [{"method": "A", "fid": 100.0}, {"method": "A", "fid": 140.0}]
    assert metrics.summarize(rows, ["fid"], ddof=0)[0]["fid_std"] == 20.0
    assert metrics.summarize(rows, ["fid"])[0]["fid_std"] == pytest.approx(28.2842712, rel=1e-6)
    assert csv_table(tmp_path / "missing.csv", ["fid"]) == ""


def test_run_all_keeps_notebooks_side_by_side_within_jobs_and_after_what_they_need(monkeypatch, tmp_path):
    import threading
    import time as clock

    events, lock, active, peak = [], threading.Lock(), [0], [0]

    def fake_run(path, output_dir, **_):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            events.append(("start", path.stem))
        clock.sleep(0.05 if path.stem != "03_statistics" else 0.2)
        with lock:
            active[0] -= 1
            events.append(("end", path.stem))
        if path.stem == "06_fails":
            raise report.NotebookFailed("06_fails: cell 1 failed")
        return output_dir / path.name

    monkeypatch.setattr(report, "run_notebook", fake_run)
    monkeypatch.setattr(report, "to_html", lambda notebook: notebook.with_suffix(".html"))
    names = ["00_a", "03_statistics", "04_sampling", "05_b"]
    runs, status = report.run_all([tmp_path / f"{n}.ipynb" for n in names], tmp_path, quick=True,
                                  figures_dir=tmp_path, jobs=2)
    assert status == 0 and [r.name for r in runs] == names  # the page keeps the notebooks' order
    assert peak[0] == 2
    assert events.index(("start", "04_sampling")) > events.index(("end", "03_statistics"))  # 04 reads 03's statistics

    events.clear()
    runs, status = report.run_all([tmp_path / f"{n}.ipynb" for n in ["05_b", "06_fails", "07_c", "08_comparison"]],
                                  tmp_path, quick=True, figures_dir=tmp_path, jobs=1)
    assert [e for e in events if e[0] == "start"] == [("start", n) for n in ["08_comparison", "05_b", "06_fails"]]
    assert status == 1 and [r.name for r in runs] == ["05_b", "06_fails", "08_comparison"] and runs[1].failed
    assert ("start", "07_c") not in events  # a failure stops new starts; the longest notebook started first
    with pytest.raises(ValueError, match="jobs"):
        report.run_all([], tmp_path, quick=True, figures_dir=tmp_path, jobs=0)
