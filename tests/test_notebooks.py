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
    assert not list(figures.glob("*_your_*.png")), f"{path.name} ran its your-model section without being given one"


def test_committed_notebooks_have_no_outputs_and_a_parameters_cell():
    import json

    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        assert not any(c.get("outputs") for c in cells if c["cell_type"] == "code"), f"{path.name} has outputs"
        assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells), f"{path.name} lacks a parameters cell"
        ids = [c.get("id") for c in cells]  # nbformat 4.5 requires them; a missing one will become an error
        assert None not in ids and len(set(ids)) == len(ids), f"{path.name} has cells without a unique id"


def test_a_notebook_runs_on_your_model_and_your_folder(tmp_path):
    """Notebook 00 with a model given as ``package.module:callable`` and a folder of one subfolder per class
    (2 classes × 4 small PNGs, one RGBA), in quick mode: nothing in it may assume VGG16 or its photos."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in ("cats", "dogs"):
        (tmp_path / "photos" / name).mkdir(parents=True)
        for i in range(4):
            image = Image.fromarray((rng.random((40, 40, 3)) * 255).astype(np.uint8))
            (image.convert("RGBA") if i == 0 else image).save(tmp_path / "photos" / name / f"{name}{i}.png")
    figures = tmp_path / "figures"
    path = next(p for p in NOTEBOOKS if p.stem == "00_activations")
    report.run_notebook(path, tmp_path / "out", quick=True, figures_dir=figures,
                        parameters={"model": "stochvis.testing:tiny_cnn", "image_folder": str(tmp_path / "photos")})
    assert {p.name for p in figures.glob("*.png")} >= {"00_activations_grid.png", "00_activations_top_channels.png"}


def test_the_maximisation_notebook_runs_its_ladder_on_your_model(tmp_path):
    """Notebook 02's section 7 with a model given as ``package.module:callable`` and a channel target: the ladder,
    olah2017 and MACO on it, in one figure (the report leaves ``model`` None and writes no such figure)."""
    figures = tmp_path / "figures"
    path = next(p for p in NOTEBOOKS if p.stem == "02_maximization")
    executed = report.run_notebook(path, tmp_path / "out", quick=True, figures_dir=figures,
                                   parameters={"model": "stochvis.testing:tiny_cnn", "target": "features.6:1"})
    assert (figures / "02_your_model.png").exists()
    assert "fel2023 (natural magnitude)" in executed.read_text() and "final features.6:1" in executed.read_text()


def test_notebook_04_checks_the_statistics_of_your_model(tmp_path):
    """Notebook 04's section 5 with a model given as ``package.module:callable`` and no layers: the Tux Paint
    statistics of three of its conv layers (collected into a fresh folder), the held-out likelihood check at each
    and the conditional chain from the deepest down, in one figure. ``am_steps=1``: section 4 (VGG16's) is not
    under test here."""
    import json
    import re

    figures = tmp_path / "figures"
    path = next(p for p in NOTEBOOKS if p.stem == "04_sampling")
    executed = report.run_notebook(path, tmp_path / "out", quick=True, figures_dir=figures,
                                   parameters={"model": "stochvis.testing:tiny_cnn", "am_steps": 1,
                                               "statistics_dir": str(tmp_path / "statistics")})
    assert (figures / "04_your_model.png").exists()
    cell = next(c for c in json.loads(executed.read_text())["cells"] if c.get("id") == "your-model-run")
    text = "".join("".join(o.get("text", "")) for o in cell["outputs"])
    layers = ["features.3", "features.6", "features.9"]  # the tiny CNN's conv layers from the middle on
    assert f"tiny_cnn at 64 px, layers {layers}" in text
    for layer in layers:
        line = re.search(rf"^{re.escape(layer)}/pooled .*held-out classified by max likelihood: (\d+)%$", text, re.M)
        assert line and 0 <= int(line.group(1)) <= 100, f"no held-out line for {layer}:\n{text}"
    assert "(chance: 33%)" in text
    ratios = re.findall(r"^\w+ +(features\.\d+): MSE .*: means ([\d.]+), draws ([\d.]+)$", text, re.M)
    assert sorted({layer for layer, _, _ in ratios}) == ["features.3", "features.6"] and len(ratios) == 6, text
    # given the real deepest vector, the conditional mean is nearer the real activation than the class mean is
    assert all(float(means) < 1 for _, means, _ in ratios), ratios
    assert list((tmp_path / "statistics").glob("tiny_cnn-tuxpaint-64px-*.json")), "the statistics were not collected"
