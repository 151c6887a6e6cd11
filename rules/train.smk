rule train:
    input:
        dataset=run_dataset,
        code=CORE + code("train.py", "resume.py"),
        script="scripts/train.py",
    output:
        checkpoints=store.run_path("{run}", "checkpoints.nc"),
        curves=store.run_path("{run}", "curves.nc"),
    params:
        spec=run_spec,
    threads: PARAMS.compute.threads
    log:
        "logs/train/{run}.log",
    script:
        "../scripts/train.py"
