# One training job per group of runs that differ only in their seed (see learnscope.train):
# the group trains as one batched model and writes every member's own files.


for _group in PARAMS.groups:

    rule:
        name:
            f"train_{_group.replace('-', '_')}"
        input:
            dataset=group_dataset(_group),
            code=group_code(_group, "scripts/train.py"),
            script="scripts/train.py",
        output:
            checkpoints=group_outputs(_group, "checkpoints.nc"),
            curves=group_outputs(_group, "curves.nc"),
        params:
            specs=config_ref([PARAMS.runs[run] for run in PARAMS.groups[_group]]),
        threads: PARAMS.compute.threads
        priority: group_priority(_group)
        resources:
            mem_mb=RESOURCES[_group]["train"]["mem_mb"],
            runtime=RESOURCES[_group]["train"]["runtime"],
            gpu=GPUS,
        log:
            f"logs/train/{_group}.log",
        script:
            "../scripts/train.py"
