rule generate:
    input:
        code=CORE,
        script="scripts/generate.py",
    output:
        store.dataset_path("{study}", "{task}"),
    params:
        task=task_spec,
    log:
        "logs/generate/{study}/{task}.log",
    script:
        "../scripts/generate.py"
