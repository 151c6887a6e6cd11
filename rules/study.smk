# One rule per study (study_<name>) plus a target rule <name>, so `snakemake parity` works.
def study_inputs(study):
    """Its runs' artefacts, and the files its sources job made of other studies' runs."""
    return [store.run_path(name, artefact) for name in study_run_names(study)
            for artefact in STUDIES[study].run_artefacts] + source_outputs(study)


def study_outputs_for_report(study):
    """A study job's outputs, its figures flagged for `snakemake --report` (one category per study)."""
    return [report(path, category=study, labels={"study": study, "figure": name}) if name.endswith(".png") else path
            for name, path in targets.study_outputs(study).items()]


def study_run_names(study):
    return [name for name, spec in PARAMS.runs.items() if spec.study == study]


for _study in PARAMS.studies:

    rule:
        name:
            f"study_{_study}"
        input:
            runs=study_inputs(_study),
            code=study_code(_study),
            script="scripts/study.py",
        output:
            study_outputs_for_report(_study),
        params:
            study=_study,
            config=config_ref(PARAMS.studies[_study]),
        resources:
            mem_mb=STUDY_JOB["mem_mb"],
            runtime=STUDY_JOB["runtime"],
        log:
            f"logs/study/{_study}.log",
        script:
            "../scripts/study.py"

    rule:
        name:
            _study
        input:
            targets.all_targets(PARAMS, [_study]),
