"""One picture per benchmark section: time per row, side by side, on a log scale."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, NullFormatter

RESULTS = Path(__file__).parent / "results"


def bar_chart(name, title, rows, series, unit="ms per iteration"):
    """Grouped horizontal bars: rows are the labels, series maps a legend entry to one value per row.

    Saves benchmarks/results/<name>.png and returns the markdown line that shows it.
    """
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.3 * len(rows) * len(series)), layout="constrained")
    height = 0.8 / len(series)
    y = np.arange(len(rows))
    for i, (label, values) in enumerate(series.items()):
        ax.barh(y + (i - (len(series) - 1) / 2) * height, values, height, label=label)
    ax.set_yticks(y, rows)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(unit)
    ax.set_title(title)
    fig.legend(loc="outside lower center", ncols=len(series), fontsize="small")
    ax.grid(axis="x", which="both", alpha=0.3)
    RESULTS.mkdir(exist_ok=True)
    fig.savefig(RESULTS / f"{name}.png", dpi=100)
    plt.close(fig)
    return f"![{title}](results/{name}.png)"
