"""The ``attention`` section of params.yaml: models x training alphabet size n x seed on a
template task (Boix-Adsera et al., ICLR 2024), and the diagonal-head rank toy (Boix-Adsera
et al., NeurIPS 2023)."""

from __future__ import annotations

import dataclasses
from functools import cached_property

from learnscope.config import check_seeds
from learnscope.errors import require
from learnscope.models.base import ModelConfig
from learnscope.runspec import ComputeConfig, RunSpec, TrainConfig, check_recipe
from learnscope.tasks.base import Task

# The model names the claims read (any other name is trained and drawn, and claims nothing).
ROLES = {
    "mlp": "an MLP on the concatenated one-hots",
    "mlp_xxt": "the MLP with the pairwise equalities XXᵀ appended",
    "transformer": "the plain transformer",
    "transformer_identity": "the transformer with the identity scalars a, b per head",
    "transformer_small_init": "the plain transformer from a smaller init scale (the rank claim)",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class AttentionModel:
    """One model of the sweep, trained at every n (or at its own ``n_symbols``) x seed.

    Attributes:
        model: the network (``mlp``, ``mlp_xxt``, ``seq_transformer``...); a model with a
            ``seq_len`` field must have the templates' length.
        width: hidden units (MLPs) or d_model (transformers).
        n_symbols: the training alphabet sizes of this model, a subset of the study's
            (empty: all of them).
        train: this model's recipe (None: the study's ``train``).
    """

    model: ModelConfig
    width: int
    n_symbols: tuple[int, ...] = ()
    train: TrainConfig | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class ToyConfig:
    """The diagonal attention head of ``studies.attention.toy``, teacher–student, trained by
    full-batch gradient descent from q = k = v = o = α·1 at each α (one ensemble).

    Attributes:
        alphas: init scales α in (0, 1); the smallest is the one the claims read.
        teacher_qk: the teacher's diag(W_K W_Qᵀ), positive (d = its length).
        teacher_vo: the teacher's diag(W_V W_Oᵀ), positive, of the same length.
        n_seq: input sequences (N(0, 1) entries); seq_len: their length.
        lr: the learning rate; steps: gradient steps; log_every: steps between logged points.
        seed: the inputs' seed.
        converged: losses below this x the initial loss count as converged for stage
            detection (``toy.find_stages``' floor): after the last stage the loss falls
            exponentially to round-off, and that tail is no stage.
    """

    alphas: tuple[float, ...] = (1.0e-1, 1.0e-2, 1.0e-4)
    teacher_qk: tuple[float, ...] = (1.5, 1.0, 0.5)
    teacher_vo: tuple[float, ...] = (4.0, 2.0, 1.0)
    n_seq: int = 32
    seq_len: int = 6
    lr: float = 3.0e-2
    steps: int = 1500
    log_every: int = 5
    seed: int = 0
    converged: float = 1.0e-4

    def check(self, path: str) -> None:
        require(0 < self.converged < 1, f"{path}.converged", f"= {self.converged} must be in (0, 1)")
        require(len(self.alphas) >= 1, f"{path}.alphas", "must list at least one init scale")
        require(len(set(self.alphas)) == len(self.alphas), f"{path}.alphas", "has repeated values")
        for i, alpha in enumerate(self.alphas):
            require(0 < alpha < 1, f"{path}.alphas[{i}]", f"= {alpha} must be in (0, 1) (time is t·lr/log(1/α))")
        require(len(self.teacher_qk) >= 1, f"{path}.teacher_qk", "must list at least one entry")
        require(len(self.teacher_vo) == len(self.teacher_qk), f"{path}.teacher_vo",
                f"has {len(self.teacher_vo)} entries; teacher_qk has {len(self.teacher_qk)}")
        for key in ("teacher_qk", "teacher_vo"):
            for i, value in enumerate(getattr(self, key)):
                require(value > 0, f"{path}.{key}[{i}]", f"= {value} must be > 0 (the balanced student stays >= 0)")
        for key in ("n_seq", "seq_len", "steps", "log_every"):
            require(getattr(self, key) >= 1, f"{path}.{key}", f"= {getattr(self, key)} must be >= 1")
        require(self.lr > 0, f"{path}.lr", f"= {self.lr} must be > 0")
        check_seeds((self.seed,), f"{path}.seed")


@dataclasses.dataclass(frozen=True, kw_only=True)
class AttentionStudyConfig:
    """Transformers reasoning with abstract symbols, and gradual rank increase.

    Every model x n x seed is one run on the template task ``template_set`` over n training
    symbols, tested on ``n_test_symbols`` unseen ones. A (model, n) is one training group:
    its seeds train as one batched model. Models of different n cannot share a batch (the
    vocabulary, hence the input width, grows with n); each (model, n) has its own copy of
    the task's dataset, byte-identical across models (same task, same ``data_seed``), so
    every model is tested on the same sequences.

    Attributes:
        seeds: seeds per point, each in [0, 2**32 - 1].
        template_set: the labelled templates (``tasks.templates.preset``): aba_abb,
            same_different, aabb_abab, majority:L.
        templates: or your own, template -> label (then set ``template_set: ""``).
        n_symbols: the sweep of training alphabet sizes n.
        n_test_symbols: the unseen test alphabet (disjoint from every training one).
        n_train: the fixed training sample on which train curves are evaluated (training
            draws fresh sequences over the n training symbols every step: ``train.online``).
        n_test: test sequences over the unseen symbols.
        data_seed: the datasets' seed.
        loss_threshold: a model generalises at n when its test loss is below this (chance: 1).
        models: name -> ``AttentionModel``; the claims read the names of ``ROLES``.
        train: the recipe of every model without its own.
        toy: the rank toy (None: left out).
    """

    seeds: tuple[int, ...]
    template_set: str = "aba_abb"
    templates: dict[str, float] = dataclasses.field(default_factory=dict)
    n_symbols: tuple[int, ...]
    n_test_symbols: int = 64
    n_train: int = 256
    n_test: int = 512
    data_seed: int = 0
    loss_threshold: float = 0.1
    models: dict[str, AttentionModel]
    train: TrainConfig
    toy: ToyConfig | None = None

    def check(self, path: str) -> None:
        for key in ("seeds", "n_symbols"):
            values = getattr(self, key)
            require(len(values) >= 1, f"{path}.{key}", "must list at least one value")
            require(len(set(values)) == len(values), f"{path}.{key}", "has repeated values")
        check_seeds(self.seeds, f"{path}.seeds")
        require(list(self.n_symbols) == sorted(self.n_symbols), f"{path}.n_symbols",
                f"= {list(self.n_symbols)} must be ascending")
        require(0 < self.loss_threshold < 1, f"{path}.loss_threshold", f"= {self.loss_threshold} must be in (0, 1)")
        require(len(self.models) >= 1, f"{path}.models", f"must define at least one model (roles: {', '.join(ROLES)})")
        for n in self.n_symbols:  # the task's keys are this section's: template_set, n_symbols...
            self.task(n).check(path)
        seq_len = self.task(self.n_symbols[0]).seq_len
        require(self.train.online, f"{path}.train.online", "must be true: training draws fresh sequences over "
                "the training symbols (the fixed n_train sample only measures the train curves)")
        for name, entry in self.models.items():
            key = f"{path}.models.{name}"
            require(name.isidentifier(), key, "must be a name of letters, digits, _")
            require(entry.width >= 1, f"{key}.width", f"= {entry.width} must be >= 1")
            bad = [n for n in entry.n_symbols if n not in self.n_symbols]
            require(not bad, f"{key}.n_symbols", f"lists {bad[:1]}, not in {path}.n_symbols")
            model_len = getattr(entry.model, "seq_len", seq_len)
            require(model_len == seq_len, f"{key}.model.seq_len",
                    f"= {model_len} must be the templates' length {seq_len}")
            recipe = entry.train or self.train
            require(recipe.online, f"{key}.train.online", "must be true (see the study's train.online)")
            check_recipe(entry.model, recipe, key)

    def task(self, n: int) -> Task:
        """The template task over n training symbols."""
        from learnscope.tasks.templates import Templates
        return Templates(n_symbols=n, n_test_symbols=self.n_test_symbols, template_set=self.template_set,
                         templates=dict(self.templates), n_train=self.n_train, n_test=self.n_test, data_seed=self.data_seed)

    def grid(self, name: str) -> tuple[int, ...]:
        """The n of model ``name``: its own ``n_symbols``, else the study's."""
        return self.models[name].n_symbols or self.n_symbols

    @cached_property
    def tasks(self) -> dict[str, Task]:
        """One task per (model, n), named ``<model>_n<n>`` (module docstring of the class)."""
        return {task_label(name, n): self.task(n) for name in self.models for n in self.grid(name)}

    coords = ("model", "n", "seed")

    @property
    def n_runs(self) -> int:
        """``len(runs(...))``, counted without building them."""
        return sum(len(self.grid(name)) for name in self.models) * len(self.seeds)

    def param_keys(self, coords: tuple) -> dict[str, str]:
        """The keys (under this section) that set the run at ``coords`` (``learnscope.limits``)."""
        name, n = coords[:2]
        train = f"models.{name}.train" if self.models[name].train else "train"
        return {"task": "template_set", "inputs": f"n_symbols[{self.n_symbols.index(n)}]",
                "model": f"models.{name}.model", "width": f"models.{name}.width", "train": train,
                "examples": "n_test" if self.n_test > self.n_train else "n_train", "members": "seeds"}

    def runs(self, study: str, compute: ComputeConfig) -> dict[tuple, RunSpec]:
        """(model, n, seed) -> the run."""
        return {(name, n, seed): RunSpec(study=study, task_name=task_label(name, n), task=self.tasks[task_label(name, n)],
                                         model=entry.model, width=entry.width, seed=seed,
                                         train=entry.train or self.train, compute=compute)
                for name, entry in self.models.items() for n in self.grid(name) for seed in self.seeds}


def task_label(model: str, n: int) -> str:
    return f"{model}_n{n}"
