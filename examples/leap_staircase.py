"""Saddle-to-saddle learning of the staircase x0 + x0x1 + x0x1x2 (Abbe, Boix-Adsera,
Misiakiewicz, COLT 2023, the Fourier-coefficient figure), redrawn from stored results only.

For the leap study's Leap-1 staircase at its largest dimension d, each seed's network
Fourier coefficients E[f·χ_S] for S = {0}, {0,1}, {0,1,2} against the samples seen: the
monomials are learned one after another. Of the learning rates the study tried for a seed,
the one with the lowest final test loss is drawn.

    python examples/leap_staircase.py                   # after `make run` (or `make pull`)
    python examples/leap_staircase.py --root path/to/project --out staircase.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

import learnscope  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="the project folder")
    parser.add_argument("--target", default="leap1", help="a target of the leap study")
    parser.add_argument("--out", type=Path, default=Path("leap_staircase.png"))
    args = parser.parse_args(argv)

    runs = pd.read_csv(args.root / "results/report/runs.tsv", sep="\t")
    runs = runs[(runs.study == "leap") & runs.task.str.startswith(f"{args.target}_d")]
    runs = runs.assign(d=runs.task.str.split("_d").str[-1].astype(int))
    runs = runs[runs.d == runs.d.max()]
    best = {}  # seed -> the opened run with the lowest final test loss over the lr grid
    for name, seed in zip(runs.run, runs.seed):
        run = learnscope.open(name, args.root)
        if seed not in best or run["curves"].test_loss[-1] < best[seed]["curves"].test_loss[-1]:
            best[seed] = run
    seeds = sorted(best)
    fig, axes = plt.subplots(1, len(seeds), figsize=(4 * len(seeds), 3.4), sharey=True, squeeze=False)
    for ax, seed in zip(axes[0], seeds):
        run = best[seed]
        spec = json.loads(run.attrs["params_json"])
        samples = run["features"].step.values * spec["train"]["batch_size"]
        for monomial in run["features"].monomial.values:
            ax.plot(samples, run["features"].fourier.sel(monomial=monomial), label=f"E[f·χ] of {monomial}")
        ax.set_xscale("symlog", linthresh=spec["train"]["batch_size"])
        ax.set_xlabel("samples seen")
        ax.set_title(f"seed {seed}, lr {spec['train']['lr']:.3g}", fontsize=9)
    axes[0][0].set_ylabel("Fourier coefficient")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{args.target} at d = {runs.d.max()}: monomials learned one after another", fontsize=10)
    fig.tight_layout()
    fig.savefig(args.out, dpi=150)
    print(f"{args.out}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
