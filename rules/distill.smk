rule distill:
    input:
        dataset=run_dataset,
        checkpoints=store.run_path("{run}", "checkpoints.nc"),
        features=store.run_path("{run}", "features.nc"),
        code=CORE + code("train.py", "resume.py", "features/*.py", "distill/*.py"),
        script="scripts/distill.py",
    output:
        tree=store.run_path("{run}", "tree.nc"),
        text=store.run_path("{run}", "tree.txt"),
        png=store.run_path("{run}", "tree.png"),
    params:
        spec=run_spec,
        distill=to_json(PARAMS.distill),
    threads: PARAMS.compute.threads
    log:
        "logs/distill/{run}.log",
    script:
        "../scripts/distill.py"
