rule features:
    input:
        dataset=run_dataset,
        checkpoints=store.run_path("{run}", "checkpoints.nc"),
        code=CORE + code("train.py", "resume.py", "features/*.py"),
        script="scripts/features.py",
    output:
        store.run_path("{run}", "features.nc"),
    params:
        spec=run_spec,
        features=to_json(PARAMS.features),
    threads: PARAMS.compute.threads
    log:
        "logs/features/{run}.log",
    script:
        "../scripts/features.py"
