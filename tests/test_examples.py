"""The examples redraw paper figures from the tiny pipeline's stored results (no training)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PIL import Image

from pipeline_tools import REPO, sh


@pytest.mark.parametrize("script, says", [("parity_nfa.py", "2 runs"), ("leap_staircase.py", "2 seeds")])
def test_an_example_draws_its_figure_from_stored_results(pipeline_repo: Path, tmp_path, script, says):
    out = tmp_path / "figure.png"
    before = sorted(p for p in (pipeline_repo / "results").rglob("*") if p.is_file())
    proc = sh(pipeline_repo, sys.executable, str(REPO / "examples" / script), "--out", str(out))
    assert says in proc.stdout
    width, height = Image.open(out).size
    assert width > 600 and height > 400
    assert sorted(p for p in (pipeline_repo / "results").rglob("*") if p.is_file()) == before  # nothing made
