# One distill job per training group; each run gets its own tree.nc, tree.txt and tree.png.
for _group in PARAMS.groups:

    rule:
        name:
            f"distill_{_group.replace('-', '_')}"
        input:
            dataset=group_dataset(_group),
            checkpoints=group_outputs(_group, "checkpoints.nc"),
            features=group_outputs(_group, "features.nc"),
            code=group_code(_group, "scripts/distill.py", measures=True),
            script="scripts/distill.py",
        output:
            trees=group_outputs(_group, "tree.nc"),
            texts=group_outputs(_group, "tree.txt"),
            pictures=group_outputs(_group, "tree.png"),
        params:
            specs=config_ref([PARAMS.runs[run] for run in PARAMS.groups[_group]]),
            trees=config_ref(PARAMS.trees),
        threads: PARAMS.compute.threads
        resources:
            mem_mb=RESOURCES[_group]["distill"]["mem_mb"],
            runtime=RESOURCES[_group]["distill"]["runtime"],
        log:
            f"logs/distill/{_group}.log",
        script:
            "../scripts/distill.py"
