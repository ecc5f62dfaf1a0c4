"""Exponentially weighted averages (the course, Improving Deep Neural Networks, week 2).

v_0 = 0, v_t = beta v_{t-1} + (1 - beta) theta_t: the idea under momentum, RMSprop and Adam.
Starting at zero biases the first averages low; v_t / (1 - beta^t) removes the bias.

The quiz: two days of 10 degrees, beta = 0.5: v_2 = 7.5 without correction and 10 with it.
The lecture's picture: daily temperatures over a year, averaged with beta = 0.9 (about the
last 1 / (1 - beta) = 10 days), 0.98 (about 50 days: smoother, and later), 0.5 (2 days:
noisy), and 0.98 without correction, which starts near zero. The lecture's London data is
not published, so the series here is a seeded synthetic year (a seasonal cycle plus noise).
"""
from __future__ import annotations

import math

import numpy as np

from ...optim import ExponentiallyWeightedAverage, ewa
from ..core import experiment
from ..plots import figure


def synthetic_year(seed: int = 0) -> np.ndarray:
    """365 daily temperatures (deg F): a seasonal sine, cool in January, plus daily noise."""
    rng = np.random.default_rng(seed)
    day = np.arange(365)
    return 50 - 20 * np.cos(2 * np.pi * (day - 15) / 365) + rng.normal(0, 6, day.size)


@experiment("ewa", "Exponentially weighted averages with and without bias correction",
            "Improving Deep Neural Networks, week 2 (quiz and lecture)",
            headline={"v2": "quiz: v_2 without bias correction (beta 0.5)",
                      "v2 corrected": "quiz: v_2 with bias correction"})
def run(run):
    # the quiz: beta 0.5, theta_1 = theta_2 = 10
    raw = ewa([10.0, 10.0], beta=0.5, bias_correction=False)
    corrected = ewa([10.0, 10.0], beta=0.5)
    run.check("quiz: v_2 without bias correction (beta 0.5)", raw[-1], 7.5, 1e-12)
    run.check("quiz: v_2 with bias correction", corrected[-1], 10.0, 1e-12)
    avg = ExponentiallyWeightedAverage(beta=0.9)
    run.check("corrected v_1 equals theta_1 for any beta", avg.update(42.0), 42.0, 1e-12)

    # the lecture's rule of thumb: the weights decay to ~1/e after 1 / (1 - beta) days
    for beta in (0.9, 0.98):
        n = round(1 / (1 - beta))
        run.check(f"beta {beta}: weight after 1/(1 - beta) = {n} days is ~1/e", beta ** n,
                  1 / math.e, 0.02)

    theta = synthetic_year()
    curves = {b: ewa(theta, beta=b) for b in (0.5, 0.9, 0.98)}
    uncorrected = ewa(theta, beta=0.98, bias_correction=False)
    # bias correction matters early and fades: after 1 day the uncorrected value is 2% of it
    run.check("beta 0.98: uncorrected v_1 / corrected v_1 = 1 - beta", uncorrected[0] / curves[0.98][0],
              0.02, 1e-12)
    # ... and fades as beta^t: 5% after 150 days, 0.2% after 300
    for t in (150, 300):
        gap = 1 - uncorrected[t - 1] / curves[0.98][t - 1]
        run.check(f"beta 0.98: relative effect of the correction at day {t} is beta^t", gap,
                  0.98 ** t, 1e-12)
    # larger beta: smoother (smaller day-to-day changes) and later (lags the seasonal peak)
    wiggle = {b: float(np.abs(np.diff(c)).mean()) for b, c in curves.items()}
    run.check("smoother with larger beta (0.5 > 0.9 > 0.98 in mean daily change)",
              float(wiggle[0.5] > wiggle[0.9] > wiggle[0.98]), 1.0, 0.0)

    fig, (ax,) = figure(1, size=(7.5, 4.0))
    days = np.arange(1, len(theta) + 1)
    ax.scatter(days, theta, s=6, c="tab:blue", alpha=0.6, label="daily temperature")
    ax.plot(days, curves[0.5], c="gold", lw=1, label="beta 0.5 (~2 days)")
    ax.plot(days, curves[0.9], c="tab:red", lw=1.6, label="beta 0.9 (~10 days)")
    ax.plot(days, curves[0.98], c="tab:green", lw=1.6, label="beta 0.98 (~50 days), corrected")
    ax.plot(days, uncorrected, c="tab:purple", lw=1.6, ls="--", label="beta 0.98, no correction")
    ax.set_xlabel("day")
    ax.set_ylabel("temperature (deg F)")
    ax.set_title("exponentially weighted averages: v_t = beta v_{t-1} + (1 - beta) theta_t", fontsize=9)
    ax.legend(fontsize=8, loc="lower center")
    run.savefig(fig, "temperatures")
    run.record(quiz={"v2": float(raw[-1]), "v2_corrected": float(corrected[-1])},
               mean_daily_change=wiggle)
    run.log(f"  quiz: v2 = {raw[-1]:g}, corrected {corrected[-1]:g}")
