# A study that analyses other studies' runs (e.g. similarity) reads their checkpoints in one
# job of its own (Study.read_sources); its study job then reads what that job wrote. The job
# may also read tasks' datasets (Study.source_datasets), e.g. to fit a kernel machine.
def source_specs(study):
    return STUDIES[study].source_runs(study, PARAMS.studies[study], PARAMS)


def source_outputs(study):
    return STUDIES[study].source_outputs(study, PARAMS.studies[study], PARAMS)


def source_datasets(study):
    return STUDIES[study].source_datasets(study, PARAMS.studies[study], PARAMS)


def sources_code(study):
    """The study's package, the sources script's imports and the sources' model and task modules."""
    specs = source_specs(study).values()
    return code_inputs(SRC, [STUDIES.module(study), *run_modules(specs)], ["scripts/sources.py"])


for _study in PARAMS.studies:
    if not source_outputs(_study):
        continue

    rule:
        name:
            f"sources_{_study}"
        input:
            checkpoints=[store.run_path(run, "checkpoints.nc") for run in source_specs(_study)],
            datasets=source_datasets(_study),
            code=sources_code(_study),
            script="scripts/sources.py",
        output:
            source_outputs(_study),
        params:
            study=_study,
            config=config_ref(PARAMS.studies[_study]),
            specs=config_ref(list(source_specs(_study).values())),
        threads: PARAMS.compute.threads
        resources:
            mem_mb=STUDY_JOB["mem_mb"],
            runtime=STUDY_JOB["runtime"],
            gpu=GPUS,
        log:
            f"logs/sources/{_study}.log",
        script:
            "../scripts/sources.py"
