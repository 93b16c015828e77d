"""Every notebook runs top to bottom in quick mode (papermill), so a broken notebook fails CI."""

from __future__ import annotations

import pytest

from stochvis import report

NOTEBOOKS = report.notebooks()


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_quick(path, tmp_path):
    figures = tmp_path / "figures"
    executed = report.run_notebook(path, tmp_path / "out", quick=True, figures_dir=figures)
    assert executed.exists()
    written = list(figures.glob("*.png"))
    assert written, f"{path.name} wrote no figure in quick mode"


def test_committed_notebooks_have_no_outputs_and_a_parameters_cell():
    import json

    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        assert not any(c.get("outputs") for c in cells if c["cell_type"] == "code"), f"{path.name} has outputs"
        assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells), f"{path.name} lacks a parameters cell"
