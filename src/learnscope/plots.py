"""``learnscope plots [REV ...]``: the studies' DVC plots (dvc.yaml ``plots``) as one offline page.

DVC fills each plot's Vega-Lite template with the data of every revision asked for
(``dvc plots show --json`` for the workspace, ``dvc plots diff REV ... --json`` to compare
git revisions or DVC experiments with it); each filled spec is then drawn to SVG here by
vl-convert (Vega's own renderer, bundled: no browser, no network) and the page inlines the
SVGs. ``dvc plots diff`` itself writes a page that loads Vega from a CDN, which an offline
machine cannot show.
"""

from __future__ import annotations

import html
import json
import subprocess
from pathlib import Path

from learnscope.atomic import write_bytes
from learnscope.errors import LearnscopeError

OUT = "dvc_plots/index.html"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def plots_json(revisions: list[str], cwd: Path = Path(".")) -> dict:
    """DVC's filled plot specs: the workspace alone, or ``revisions`` beside it."""
    from learnscope.status import tool

    args = ["plots", "diff", *revisions] if revisions else ["plots", "show"]
    done = subprocess.run([tool("dvc"), *args, "--json"], cwd=cwd, capture_output=True, text=True)
    text = done.stdout.strip()
    if done.returncode or not text.startswith("{"):
        message = (done.stderr.strip() or text or "no output").splitlines()[-1]
        raise LearnscopeError(f"dvc {' '.join(args)}: {message}")
    return json.loads(text)


def render(data: dict, revisions: list[str]) -> tuple[str, int]:
    """The page (one SVG per plot, then what DVC could not load: a study not run at a
    revision) and the number of plots drawn."""
    import vl_convert

    sections = []
    for plot_id, entries in data.get("data", {}).items():
        for entry in entries:
            if entry.get("type") != "vega":
                continue
            svg = vl_convert.vegalite_to_svg(entry["content"])
            shown = ", ".join(entry.get("revisions", []))
            sections.append(f"<section><h2>{html.escape(plot_id)}</h2><p class=revs>{html.escape(shown)}</p>"
                            f"<div class=plot>{svg}</div></section>")
    missing = sorted({(e.get("rev", "?"), e.get("name", "?")) for e in data.get("errors", [])})
    notes = "".join(f"<li>{html.escape(name)} at {html.escape(rev)}</li>" for rev, name in missing)
    compared = ", ".join(["workspace", *revisions]) if revisions else "workspace"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>learnscope plots: {html.escape(compared)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}} section{{margin-bottom:2em}}
h2{{font-size:1em;font-family:monospace}} .revs{{color:#555;margin:0}}</style></head>
<body><h1>Main curves: {html.escape(compared)}</h1>
<p>{len(sections)} plot(s) from dvc.yaml, drawn offline (median over seeds with its range; see each
study's <code>plots/</code> tables).</p>
{''.join(sections)}
{f'<h2>Not found</h2><ul>{notes}</ul>' if notes else ''}
</body></html>
"""
    return page, len(sections)


def write_page(revisions: list[str], out: str = OUT, cwd: Path = Path(".")) -> tuple[Path, int]:
    """Render the plots of ``revisions`` (none: the workspace) to ``out``; (path, plots drawn)."""
    data = plots_json(revisions, cwd)
    if not data.get("data"):
        raise LearnscopeError("no DVC plot has data here: run the pipeline first (make run)")
    page, drawn = render(data, revisions)
    path = cwd / out
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, page.encode(), "html")
    return path, drawn
