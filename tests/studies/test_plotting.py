"""Shared plotting helpers: a symlog axis from 0 puts no tick inside its linear part (whose
label would print over the 0), and index axes get whole-number ticks."""

import matplotlib.pyplot as plt

from learnscope.studies.plotting import integer_ticks, symlog_from_zero, symlog_steps


def _labels(ax):
    ax.figure.canvas.draw()
    return [t.get_text() for t in ax.get_xticklabels()]


def test_symlog_from_zero_ticks_zero_then_the_decades_above_the_linear_part():
    fig, ax = plt.subplots()
    ax.plot([0, 8, 80, 3000], [1, 2, 3, 4])
    symlog_from_zero(ax, 8.0, "samples seen")
    assert list(ax.get_xticks()) == [0.0, 10.0, 100.0, 1000.0]
    assert _labels(ax) == ["0", "$10^{1}$", "$10^{2}$", "$10^{3}$"] and ax.get_xlabel() == "samples seen"
    fig2, ax2 = plt.subplots()
    ax2.plot([0, 1, 50], [1, 2, 3])
    symlog_steps(ax2)
    assert list(ax2.get_xticks()) == [0.0, 1.0, 10.0] and ax2.get_xlim()[0] == 0
    plt.close(fig)
    plt.close(fig2)


def test_integer_ticks_on_an_index_image():
    fig, ax = plt.subplots()
    ax.imshow([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    integer_ticks(ax)
    fig.canvas.draw()
    assert all(float(t).is_integer() for t in ax.get_xticks()) and all(float(t).is_integer() for t in ax.get_yticks())
    plt.close(fig)
