"""Snakemake adapter: write one task's fixed dataset."""
from learnscope.config import from_ref
from learnscope.data import generate
from learnscope.logs import log_to
from learnscope.tasks.base import Task

with log_to(snakemake.log[0]):
    generate(from_ref(Task, snakemake.params.task, "task"), snakemake.output[0])
