"""End to end: the Snakemake + DVC pipeline in a temporary copy of the repo, tiny params.

Checks what a user relies on: one command runs everything; a second run does nothing (both
tools agree); a ``trees.max_depth`` change reruns only distill and what depends on it;
editing a module reruns exactly the rules that list it; files are byte-reproducible; and
``dvc push`` + a fresh clone + ``dvc pull`` gives identical files with nothing to do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import xarray as xr
import yaml

from learnscope.imports import module_file
from learnscope.logs import MODULES_LINE
from learnscope import store
from learnscope.studies import STUDIES
from pipeline_tools import TINY, edited, hashes, planned_jobs, sh, write_params

pytestmark = pytest.mark.pipeline


@pytest.fixture
def repo(pipeline_repo: Path) -> Path:
    """The session's tiny project, already run once (tests/conftest.py)."""
    return pipeline_repo


def test_seeds_of_a_group_train_in_one_job(repo: Path):
    log = (repo / "logs/train/parity-sparse_parity-w16.log").read_text()
    last = [line for line in log.splitlines() if "step 120/120 (100%)" in line]
    assert len(last) == 1 and last[0].endswith(tuple("0123456789")) and "loss s0: " in last[0] and ", s1: " in last[0]
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ INFO learnscope.progress: parity-sparse_parity-w16: ", last[0])


def test_first_run_makes_every_artefact(repo: Path):
    assert (repo / "results/metrics.json").exists()
    assert (repo / "results/studies/parity/summary.nc").exists()
    assert (repo / "results/report/index.html").exists()
    for seed in (0, 1):
        run = repo / f"results/runs/parity-sparse_parity-w16-s{seed}"
        assert {p.name for p in run.iterdir()} >= {"checkpoints.nc", "curves.nc", "features.nc", "tree.nc",
                                                   "tree.txt", "tree.png"}
    assert not (repo / ".tmp/resume").exists() or not any((repo / ".tmp/resume").iterdir())


def test_every_study_states_its_claims_and_the_report_shows_them(repo: Path):
    metrics = json.loads((repo / "results/metrics.json").read_text())
    verdicts = {"holds", "does not hold", "uninformative", "not measured"}
    for study in ("parity", "leap", "algebra", "gdln", "attention", "similarity"):
        claims = metrics[study]["claims"]
        assert claims and all(c["verdict"] in verdicts and c["claim"] and c["paper"] for c in claims), study
    algebra = {c["key"]: c for c in metrics["algebra"]["claims"]}
    assert algebra["parity_support_frac"]["verdict"] == "not measured"  # no parity experiment in TINY
    assert algebra["freq_coverage"]["chance"] is not None and algebra["clean_freq_coverage"]["chance"] is not None
    page = (repo / "results/report/index.html").read_text()
    assert "<h2>Claims</h2>" in page and "clean_freq_coverage" in page


def test_leap_study_runs_without_trees_and_reports_its_keys(repo: Path):
    """The leap study's runs get Fourier features (no AGOP, no trees) and its metrics reach the report."""
    run = repo / "results/runs/leap-leap3_d16-w32-c0.5-s1"
    assert {p.name for p in run.iterdir()} == {"checkpoints.nc", "curves.nc", "features.nc"}
    features = xr.open_dataset(run / "features.nc")
    assert features.attrs["measures"] == "fourier" and "agop" not in features
    assert features["monomial"].values.tolist() == ["x0x1x2"]
    metrics = json.loads((repo / "results/metrics.json").read_text())["leap"]
    assert {"slope_leap1", "slope_leap3", "plateaus_staircase", "plateaus_expected_staircase",
            "rank_final_staircase"} <= set(metrics)
    assert metrics["plateaus_expected_staircase"] == 3
    assert all((repo / "results/studies/leap" / f).exists() for f in ("summary.nc", "samples_vs_d.png"))


def test_algebra_study_measures_groups_and_reports_its_keys(repo: Path):
    """Group-table runs get margins and irrep energies; missing experiments give null keys."""
    features = xr.open_dataset(repo / "results/runs/algebra-margin-w16-s1/features.nc")
    assert features.attrs["measures"] == "group" and features.attrs["group"] == "C5"
    assert features["irrep_energy_u"].dims == ("step", "neuron", "irrep")
    assert features["irrep"].values.tolist() == ["trivial", "rot1", "rot2"]
    assert "normalised_margin" in features
    grok = xr.open_dataset(repo / "results/runs/algebra-grokking-w16-s0/features.nc")
    assert "irrep_energy_embed" in grok and "normalised_margin" not in grok
    metrics = json.loads((repo / "results/metrics.json").read_text())["algebra"]
    assert {"single_freq_frac", "freq_coverage", "margin_ratio", "irrep_frac", "grok_delay_ratio",
            "parity_support_frac"} <= set(metrics)
    assert metrics["parity_support_frac"] is None  # no parity experiment in TINY
    assert 0 < metrics["single_freq_frac"] <= 1 and metrics["margin_ratio"] is not None
    assert all((repo / "results/studies/algebra" / f).exists() for f in ("summary.nc", "grokking.png"))


def test_gdln_study_compares_runs_with_the_reduction_and_reports_its_keys(repo: Path):
    """Gated runs get mode strengths and layer spectra; each init scale is its own group."""
    features = xr.open_dataset(repo / "results/runs/gdln-routing-w8-init0.2-s1/features.nc")
    assert features.attrs["measures"] == "gdln"
    assert features["mode_strength"].dims == ("step", "pathway_out", "pathway_in", "mode")
    assert features["step"].values.tolist() == list(range(0, 121, 10))  # linear snapshots
    data = xr.open_dataset(repo / "data/gdln/routing.nc")
    assert data.attrs["kind"] == "vector" and data["y_train"].dims == ("sample_train", "output")
    metrics = json.loads((repo / "results/metrics.json").read_text())["gdln"]
    assert {"plateau_levels_sim", "plateau_levels_theory", "transition_epochs_sim", "transition_epochs_theory",
            "hidden_sv_sim", "hidden_sv_theory", "heldout_mse_small_init", "heldout_mse_large_init"} <= set(metrics)
    assert metrics["plateau_levels_theory"] == [61.0, 14.75, 4.5, 0.0]
    assert len(metrics["transition_epochs_theory"]) == 3 and len(metrics["hidden_sv_sim"]) == 4
    assert all((repo / "results/studies/gdln" / f).exists() for f in ("summary.nc", "loss.png", "heldout.png"))


def test_a_run_of_one_study_remakes_the_report_and_metrics(repo: Path):
    """``make run STUDY=gdln`` leaves results/metrics.json and the report current (here: the same
    bytes as the full run's report rule made), with every study's headline keys, no detail."""
    paths = [repo / "results/metrics.json", repo / "results/report/index.html"]
    before = [p.read_bytes() for p in paths]
    for p in paths:
        p.unlink()
    out = sh(repo, "python", "-m", "learnscope.pipeline", "gdln")
    assert "report and results/metrics.json remade" in out.stderr + out.stdout
    assert [p.read_bytes() for p in paths] == before
    metrics = json.loads(before[0])
    assert {"parity", "gdln", "similarity"} <= set(metrics) and not any("detail" in m for m in metrics.values())
    assert "detail" in json.loads((repo / "results/studies/gdln/metrics.json").read_text())


def test_second_run_does_nothing_and_tools_agree(repo: Path):
    before = hashes(repo)
    out = sh(repo, "dvc", "repro").stdout
    assert "didn't change" in out and "up to date" in out
    assert planned_jobs(repo) == {}
    assert "up to date" in sh(repo, "dvc", "status").stdout
    assert hashes(repo) == before


def test_features_are_byte_reproducible(repo: Path):
    path = repo / "results/runs/parity-sparse_parity-w16-s0/features.nc"
    before = path.read_bytes()
    sh(repo, "snakemake", "--profile", "profiles/default", "--force", str(path.relative_to(repo)))
    assert path.read_bytes() == before
    # Identical bytes: Snakemake sees nothing to redo downstream; DVC records the new
    # .snakemake/metadata (run times) and then agrees.
    assert planned_jobs(repo) == {}
    sh(repo, "dvc", "repro")
    assert "up to date" in sh(repo, "dvc", "status").stdout
    assert planned_jobs(repo) == {}


def test_max_depth_change_reruns_only_distill_and_downstream(repo: Path):
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["trees"]["max_depth"] = 3
    write_params(repo, params)
    jobs = planned_jobs(repo)
    assert set(jobs) == {"distill", "study_parity", "report", "all"}, jobs
    before = hashes(repo)
    sh(repo, "dvc", "repro")
    after = hashes(repo)
    for path in before:
        if path.startswith("data/") or path.endswith(("checkpoints.nc", "curves.nc", "features.nc")):
            assert after[path] == before[path], f"{path} changed though only trees.max_depth did"
    assert after["results/runs/parity-sparse_parity-w16-s0/tree.nc"] != \
        before["results/runs/parity-sparse_parity-w16-s0/tree.nc"]
    assert planned_jobs(repo) == {}
    assert "up to date" in sh(repo, "dvc", "status").stdout


def test_editing_a_module_reruns_exactly_its_rules(repo: Path):
    with edited(repo, "distill/trees.py"):
        assert set(planned_jobs(repo)) == {"distill", "study_parity", "report", "all"}
    with edited(repo, "train.py"):
        jobs = planned_jobs(repo)
        assert "train" in jobs and "generate" not in jobs, jobs


def test_an_unused_model_plans_no_job(repo: Path):
    """No run in TINY uses the transformer: editing it reruns nothing."""
    with edited(repo, "models/transformer.py"):
        assert planned_jobs(repo) == {}


def test_a_task_edit_plans_only_the_jobs_of_its_runs(repo: Path):
    with edited(repo, "tasks/routing.py"):
        assert planned_jobs(repo) == {"generate": 1, "train": 1, "features": 1, "study_gdln": 1, "report": 1, "all": 1}


def test_a_model_edit_plans_only_the_runs_of_that_model(repo: Path):
    """TINY's transformer_identity trains at two n (two groups); the MLP with XXᵀ does not
    import seq_transformer."""
    with edited(repo, "models/seq_transformer.py"):
        assert planned_jobs(repo) == {"train": 2, "features": 2, "study_attention": 1, "report": 1, "all": 1}


def test_attention_study_measures_ranks_and_reports_its_keys(repo: Path):
    features = xr.open_dataset(repo / "results/runs/attention-transformer_identity_n6-w8-s0/features.nc")
    assert features.attrs["measures"] == "attention_rank"
    assert features["attn_stable_rank"].dims == ("step", "block", "head", "product")
    assert float(features["attn_stable_rank"].isel(step=0).max()) == 0.0  # Δ = 0 at init
    assert float(features["attn_stable_rank"].isel(step=-1).min()) >= 1.0
    metrics = json.loads((repo / "results/metrics.json").read_text())["attention"]
    assert {"n_transformer", "n_transformer_identity", "identity_gain", "mlp_loss_at_max_n", "mlp_xxt_loss_at_min_n",
            "toy_stages_small_alpha", "rank_increment_max", "final_stable_rank_small_vs_default_init"} <= set(metrics)
    assert metrics["n_transformer"] is None and metrics["mlp_xxt_loss_at_min_n"] is not None
    verdicts = {c["key"]: c["verdict"] for c in metrics["claims"]}
    assert verdicts["n_transformer"] == "not measured"  # no plain transformer in TINY
    assert all((repo / "results/studies/attention" / f).exists()
               for f in ("summary.nc", "generalisation.png", "stable_rank.png", "toy_staircase.png"))


def test_similarity_study_compares_other_studies_runs_and_reports_its_keys(repo: Path):
    reps = xr.open_dataset(repo / "results/studies/similarity/representations/algebra-grokking-w16-s1.nc")
    assert reps.attrs["space"] == "pairs_7" and reps.attrs["source_study"] == "algebra"
    assert reps["hidden_0"].dims == ("step", "sample", "unit_0") and reps.sizes["sample"] == 49  # every pair
    assert reps.sizes["step"] == 4 and int(reps["step"][-1]) == reps.attrs["final_step"]
    summary = xr.open_dataset(repo / "results/studies/similarity/summary.nc")
    assert summary["gulp"].dims == ("run_a", "run_b", "lam") and summary.sizes["run"] == 6
    metrics = json.loads((repo / "results/metrics.json").read_text())["similarity"]
    assert {"gulp_identity_err", "triangle_violations", "gulp_cka_spearman", "same_task_closer_frac",
            "converges_over_training", "ridge_gap_bounded"} <= set(metrics)
    assert metrics["triangle_violations"] == 0 and metrics["ridge_gap_bounded"] is True
    assert metrics["gulp_identity_err"] < 1e-8
    assert metrics["same_task_closer_frac"] is None  # each TINY space holds one task
    with edited(repo, "studies/similarity/figures.py"):  # the sources job imports the study's package too
        assert planned_jobs(repo) == {"sources_similarity": 1, "study_similarity": 1, "report": 1, "all": 1}
    with edited(repo, "representations.py"):
        assert planned_jobs(repo) == {"sources_similarity": 1, "study_similarity": 1, "report": 1, "all": 1}


def test_a_study_figure_edit_plans_only_that_study(repo: Path):
    with edited(repo, "studies/leap/figures.py"):
        assert planned_jobs(repo) == {"study_leap": 1, "report": 1, "all": 1}


def test_a_training_loop_edit_plans_every_run_and_all_downstream(repo: Path):
    with edited(repo, "train.py"):
        jobs = planned_jobs(repo)
    expected = {"train": 12, "features": 12, "distill": 1, "study_parity": 1, "study_leap": 1, "study_algebra": 1,
                "study_gdln": 1, "study_attention": 1, "sources_similarity": 1, "study_similarity": 1, "report": 1,
                "all": 1}
    assert jobs == expected


def test_derived_code_inputs_cover_every_module_a_job_loaded(repo: Path):
    """Each stage's log names the learnscope modules its job had loaded (``logs.MODULES_LINE``);
    each of those files must be among that job's code inputs, as Snakemake has them."""
    summary = sh(repo, "snakemake", "--profile", "profiles/default", "--detailed-summary").stdout.splitlines()
    header = summary[0].split("\t")
    column = {name: header.index(name) for name in ("log-file(s)", "input-file(s)")}
    inputs_of_log: dict[str, set[str]] = {}
    for line in summary[1:]:
        cells = line.split("\t")
        for log in filter(None, cells[column["log-file(s)"]].split(",")):
            inputs_of_log.setdefault(log, set()).update(cells[column["input-file(s)"]].split(","))
    root = repo / "src/learnscope"
    checked = 0
    for log in sorted((repo / "logs").rglob("*.log")):
        rel = str(log.relative_to(repo))
        if rel == "logs/report.log":  # runs inside Snakemake's own process (see rules/report.smk)
            continue
        line = next(x for x in log.read_text().splitlines() if MODULES_LINE in x)
        modules = line.split(MODULES_LINE, 1)[1].split()
        files = {str(module_file(m, root).relative_to(repo)) for m in modules}
        missing = files - inputs_of_log[rel]
        assert not missing, f"{rel}: the job loaded {sorted(missing)} but they are not among its code inputs"
        checked += 1
    assert checked == 12 + 12 + 12 + 1 + 1 + 6  # generate, train, features (12 datasets and groups), distill,
    # the similarity study's sources job, the study jobs


def test_no_rule_param_prints_kilobytes(repo: Path):
    """Configuration reaches jobs by content hash (``config.config_ref``): every param Snakemake
    recorded for every output (and would print) is short."""
    records = [json.loads(p.read_text()) for p in (repo / ".snakemake/metadata").iterdir()]
    params = [value for record in records for value in record.get("params") or []]
    assert len(records) > 50 and params
    assert max(len(str(value)) for value in params) <= 100, max(params, key=lambda v: len(str(v)))


def test_every_study_writes_its_main_curves_for_dvc_plots(repo: Path):
    for study in TINY:
        if study not in STUDIES:
            continue
        for name, curve in STUDIES[study].plots.items():
            lines = (repo / store.study_path(study, f"plots/{name}")).read_text().splitlines()
            assert lines[0] == ",".join(curve.columns()), (study, name)
            labels_absent = study == "attention" and name == "mlp.csv"  # the tiny params train no MLP there
            assert (len(lines) == 1) == labels_absent, (study, name, len(lines))


def test_bad_params_fail_before_any_job_with_the_key(repo: Path):
    text = (repo / "params.yaml").read_text()
    try:
        (repo / "params.yaml").write_text(text.replace("lr: 0.01", "lr: 1e-2"))
        proc = sh(repo, "snakemake", "--profile", "profiles/default", "-n", check=False)
        assert proc.returncode != 0
        assert "parity.train.lr" in proc.stdout + proc.stderr
    finally:
        (repo / "params.yaml").write_text(text)


def test_share_and_pull_into_a_fresh_clone(repo: Path, tmp_path: Path):
    sh(repo, "dvc", "repro")
    sh(repo, "dvc", "push")
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-q", "-m", "results")
    clone = tmp_path / "clone"
    sh(tmp_path, "git", "clone", "-q", str(repo), str(clone))
    remote = sh(repo, "dvc", "remote", "list", "--local").stdout.split()[1]
    sh(clone, "dvc", "remote", "add", "--local", "-d", "test", remote)
    sh(clone, "dvc", "pull")
    assert hashes(clone) == hashes(repo)
    assert "up to date" in sh(clone, "dvc", "status").stdout
    assert planned_jobs(clone) == {}
