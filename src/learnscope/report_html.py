"""The report page, results/report/index.html: one self-contained file that a browser shows
offline. Figures are embedded as PNG data URIs and a Content-Security-Policy forbids every
other source, so opening it never sends a request off the machine.

At the top, every study's claims in one table (claim, paper, our median and range over
seeds, the reference, the chance level, the rule, the verdict); then one section per study:
what it asks (its package's ``about.md``), its headline values, its figures, and a
provenance panel (learnscope version and file format, the study's params, the sha256 of its
summary, datasets and every file its study job read).
"""

from __future__ import annotations

import base64
import html
import json
import re

from learnscope.studies.claims import fmt, ours

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
STYLE = """
body{font:15px/1.45 system-ui,sans-serif;max-width:1240px;margin:1.5em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em} h2{margin-top:2em;border-bottom:2px solid #ccc} h3{margin-bottom:.3em}
table{border-collapse:collapse;margin:.5em 0} td,th{padding:3px 8px;border-bottom:1px solid #ddd;
vertical-align:top;text-align:left} th{background:#f3f3f3} td.num{text-align:right;white-space:nowrap}
.claim{max-width:560px} .paper,.rule{color:#666;font-size:85%} .rule{max-width:230px}
tr.study td{background:#eef2f7;font-weight:bold;padding-top:6px} .key{font-family:monospace;font-weight:bold}
.verdict{font-weight:bold;white-space:nowrap;border-radius:4px;padding:1px 6px}
.holds{background:#d9f2d9;color:#145214} .does-not-hold{background:#f8d7d7;color:#7a1010}
.uninformative{background:#fff0c2;color:#6b5200} .not-measured{background:#e8e8e8;color:#555}
figure{margin:1em 0} figure img{max-width:100%;border:1px solid #eee} figcaption{color:#555;font-size:90%}
details{margin:1em 0;background:#fafafa;border:1px solid #e4e4e4;padding:.4em .8em}
pre{white-space:pre-wrap;font-size:85%} code{font-size:92%} nav a{margin-right:1em}
.hash{font-family:monospace;font-size:85%}
"""
VERDICTS = ("holds", "does not hold", "uninformative", "not measured")


def verdict_badge(verdict: str) -> str:
    return f"<span class='verdict {verdict.replace(' ', '-')}'>{html.escape(verdict)}</span>"


def markdown(text: str) -> str:
    """The little Markdown of an ``about.md``: paragraphs, **bold**, *emphasis*, `code`."""
    def inline(par: str) -> str:
        par = html.escape(" ".join(par.split()))
        par = re.sub(r"`([^`]+)`", r"<code>\1</code>", par)
        par = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", par)
        return re.sub(r"\*([^*]+)\*", r"<i>\1</i>", par)
    return "".join(f"<p>{inline(par)}</p>" for par in re.split(r"\n\s*\n", text.strip()) if par.strip())


def claims_table(metrics: dict) -> str:
    """Every study's claims, one row each, under a row naming the study."""
    head = "".join(f"<th>{c}</th>" for c in ("claim", "ours: median [range]", "reference", "chance", "rule",
                                             "verdict"))
    rows = []
    for study, values in metrics.items():
        claims = values.get("claims", [])
        if claims:
            rows.append(f"<tr class='study'><td colspan='6'><a href='#{study}'>{html.escape(study)}</a></td></tr>")
        for c in claims:
            rows.append(f"<tr><td class='claim'><span class='key'>{html.escape(c['key'])}</span>: "
                        f"{html.escape(c['claim'])}<div class='paper'>{html.escape(c['paper'])}</div></td>"
                        f"<td class='num'>{html.escape(ours(c))}</td><td class='num'>{fmt(c['reference'])}</td>"
                        f"<td class='num'>{fmt(c['chance'])}</td><td class='rule'>{html.escape(c['rule'])}</td>"
                        f"<td>{verdict_badge(c['verdict'])}</td></tr>")
    return f"<table class='claims'><tr>{head}</tr>{''.join(rows)}</table>"


def verdict_counts(metrics: dict) -> str:
    """'31 claims in 8 studies: 26 hold, 5 do not hold, ...'."""
    verdicts = [c["verdict"] for values in metrics.values() for c in values.get("claims", [])]
    counts = [f"{verdicts.count(v)} {'hold' if v == 'holds' else 'do not hold' if v == 'does not hold' else v}"
              for v in VERDICTS if verdicts.count(v)]
    return f"{len(verdicts)} claims in {len(metrics)} studies: {', '.join(counts) or 'none yet'}."


def headline_table(values: dict) -> str:
    rows = "".join(f"<tr><td class='key'>{html.escape(k)}</td><td class='num'>{html.escape(fmt(v))}</td></tr>"
                   for k, v in values.items() if k not in ("detail", "claims"))
    return f"<table>{rows}</table>"


def figure_html(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f"<figure><img src='data:image/png;base64,{data}' alt='{html.escape(name)}'>"
            f"<figcaption>{html.escape(name)}</figcaption></figure>")


def hashes_table(hashes: dict[str, str]) -> str:
    rows = "".join(f"<tr><td>{html.escape(path)}</td><td class='hash'>{html.escape(digest)}</td></tr>"
                   for path, digest in hashes.items())
    return f"<table><tr><th>file</th><th>sha256</th></tr>{rows}</table>"


def provenance_panel(prov: dict) -> str:
    """``prov``: learnscope_version, learnscope_format, params_json (the study's section), files
    (its summary, metrics and datasets -> sha256) and inputs (what its study job read -> sha256)."""
    params = json.dumps(json.loads(prov["params_json"]), indent=2, sort_keys=True)
    return (f"<details><summary>Provenance: learnscope {html.escape(str(prov['learnscope_version']))}, "
            f"file format {html.escape(str(prov['learnscope_format']))}, {len(prov['inputs'])} input files"
            f"</summary><h4>Params (this study's section of params.yaml)</h4><pre>{html.escape(params)}</pre>"
            f"<h4>Results and datasets</h4>{hashes_table(prov['files'])}"
            f"<h4>Files its study job read</h4>{hashes_table(prov['inputs'])}</details>")


def study_section(study: str, values: dict, about: str, figures: dict[str, bytes], prov: dict | None) -> str:
    claims = values.get("claims", [])
    verdicts = " ".join(f"<span class='key'>{html.escape(c['key'])}</span> {verdict_badge(c['verdict'])}"
                        for c in claims)
    parts = [f"<section id='{study}'><h2>{html.escape(study)}</h2>", markdown(about),
             f"<p>{verdicts}</p>" if claims else "", "<h3>Headline values</h3>", headline_table(values),
             "<p>Every digit and the detail per task, width and seed: "
             f"<code>results/studies/{html.escape(study)}/metrics.json</code></p>"]
    parts += [figure_html(name, png) for name, png in figures.items()]
    if prov is not None:
        parts.append(provenance_panel(prov))
    return "\n".join(parts) + "</section>"


def index_html(metrics: dict, abouts: dict[str, str], figures: dict[str, dict[str, bytes]],
               provenance: dict[str, dict], n_runs: int, version: str) -> str:
    """The whole page. ``figures``: study -> figure name -> PNG bytes; ``provenance``: study ->
    ``provenance_panel``'s dict (a study without one shows none)."""
    nav = " ".join(f"<a href='#{s}'>{html.escape(s)}</a>" for s in metrics)
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">",
             "<title>learnscope report</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>learnscope report</h1>",
             f"<p>{html.escape(verdict_counts(metrics))} Our values are medians over seeds with their range; "
             "a claim whose chance level already meets its rule is <i>uninformative</i>; a claim that fails at "
             "this scale is shown failing. Made by learnscope "
             f"{html.escape(version)} from {n_runs:,} runs (<a href='runs.tsv'>runs.tsv</a>: each run's params).</p>",
             f"<nav>{nav}</nav>", "<h2>Claims</h2>", claims_table(metrics)]
    parts += [study_section(s, values, abouts.get(s, ""), figures.get(s, {}), provenance.get(s))
              for s, values in metrics.items()]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
