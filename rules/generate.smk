# Datasets first (seconds each): the group jobs' priorities only order jobs that are ready,
# so the longest group can start first only once its dataset exists.
rule generate:
    priority: 100
    input:
        code=generate_code,
        script="scripts/generate.py",
    output:
        store.dataset_path("{study}", "{task}"),
    params:
        task=task_spec,
    resources:
        mem_mb=STUDY_JOB["mem_mb"],
        runtime=STUDY_JOB["runtime"],
    log:
        "logs/generate/{study}/{task}.log",
    script:
        "../scripts/generate.py"
