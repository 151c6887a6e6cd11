"""Training progress: plain log lines every tenth of the steps (step, rate, ETA, each run's
loss by its label) where there is no terminal; a tqdm bar where there is one."""

import logging
from types import SimpleNamespace

import torch

from learnscope.progress import Progress, duration, run_labels


def _spec(seed, lr):
    return SimpleNamespace(seed=seed, train=SimpleNamespace(lr=lr))


def test_labels_name_the_seed_and_the_lr_only_where_lrs_differ():
    assert run_labels([_spec(0, 1e-3), _spec(1, 1e-3)]) == ["s0", "s1"]
    assert run_labels([_spec(0, 1e-3), _spec(0, 1e-2)]) == ["s0 lr=0.001", "s0 lr=0.01"]


def test_plain_lines_every_tenth_of_the_steps_and_at_the_end(caplog):
    progress = Progress("parity-w16", 100, ["s0", "s1"], bar=False, every_s=3600)
    with caplog.at_level(logging.INFO, logger="learnscope.progress"):
        for step in range(100):
            progress.update(step, torch.tensor([1.0 / (step + 1), 2.0]))
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split(" ")[2] for line in lines] == [f"{s}/100" for s in (1, 11, 21, 31, 41, 51, 61, 71, 81, 91, 100)]
    assert lines[-1].startswith("parity-w16: step 100/100 (100%), ") and lines[-1].endswith("loss s0: 0.01, s1: 2")
    assert "steps/s, ETA 0m00s" in lines[-1]


def test_a_resumed_job_counts_from_its_step(caplog):
    progress = Progress("g", 50, ["s0"], start=40, bar=False)
    with caplog.at_level(logging.INFO, logger="learnscope.progress"):
        for step in range(40, 50):
            progress.update(step, [0.5])
    assert caplog.records[0].getMessage().startswith("g: step 41/50 (82%)")


def test_a_terminal_gets_a_bar_and_no_log_lines(capsys, caplog):
    progress = Progress("g", 5, ["s0"], bar=True)
    with caplog.at_level(logging.INFO, logger="learnscope.progress"):
        for step in range(5):
            progress.update(step, [0.25])
        progress.close()
    assert not caplog.records and "5/5" in capsys.readouterr().err


def test_durations_read_as_minutes_or_hours():
    assert duration(59.6) == "1m00s" and duration(125) == "2m05s" and duration(7260) == "2h01m"
