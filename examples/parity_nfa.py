"""The Neural Feature Ansatz over training (Radhakrishnan et al., Science 2024, the NFA
correlation figure), redrawn from stored results only: no training, no recomputation.

For every seed of the parity study's sparse parity at its largest width, the Pearson
correlation between the first layer's W1ᵀW1 and the square root of the network's AGOP at
each checkpoint, beside the same correlation at initialisation (the chance level).

    python examples/parity_nfa.py                       # after `make run` (or `make pull`)
    python examples/parity_nfa.py --root path/to/project --out nfa.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

import learnscope  # noqa: E402

CORR = {"agop_power": "sqrt_agop", "metric": "pearson"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="the project folder")
    parser.add_argument("--task", default="sparse_parity", help="a task of the parity study")
    parser.add_argument("--out", type=Path, default=Path("parity_nfa.png"))
    args = parser.parse_args(argv)

    runs = pd.read_csv(args.root / "results/report/runs.tsv", sep="\t")  # every run and its params
    runs = runs[(runs.study == "parity") & (runs.task == args.task)]
    runs = runs[runs.width == runs.width.max()]
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, (name, seed) in enumerate(zip(runs.run, runs.seed)):
        features = learnscope.open(name, args.root)["features"].to_dataset()
        steps = features.step.values
        ax.plot(steps, features.nfa_corr.sel(weight_form="W", **CORR), color="C0", alpha=0.8,
                label="corr(W1ᵀW1, AGOP^½)" if i == 0 else None)
        ax.plot(steps, features.nfa_corr_init.sel(**CORR), color="0.5", linestyle="--",
                label="at initialisation: corr(W0ᵀW0, AGOP^½)" if i == 0 else None)
    ax.set_xscale("symlog", linthresh=1)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("training step")
    ax.set_ylabel("Pearson correlation")
    ax.set_title(f"{args.task}, width {runs.width.max()}, {len(runs)} seeds: W1ᵀW1 ∝ AGOP^½ after training")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=150)
    print(f"{args.out}: {len(runs)} runs")


if __name__ == "__main__":
    main()
