# One features job per training group: every snapshot of every member is measured in one
# batched pass (learnscope.features.extract.measure_group); the study picks the optional measures.
for _group in PARAMS.groups:

    rule:
        name:
            f"features_{_group.replace('-', '_')}"
        input:
            dataset=group_dataset(_group),
            checkpoints=group_outputs(_group, "checkpoints.nc"),
            code=group_code(_group, "scripts/features.py", measures=True),
            script="scripts/features.py",
        output:
            group_outputs(_group, "features.nc"),
        params:
            specs=config_ref([PARAMS.runs[run] for run in PARAMS.groups[_group]]),
            features=config_ref(PARAMS.features),
            measures=list(STUDIES[PARAMS.runs[PARAMS.groups[_group][0]].study].measures),
        threads: PARAMS.compute.threads
        priority: group_priority(_group)
        resources:
            mem_mb=RESOURCES[_group]["features"]["mem_mb"],
            runtime=RESOURCES[_group]["features"]["runtime"],
            gpu=GPUS,
        log:
            f"logs/features/{_group}.log",
        script:
            "../scripts/features.py"
