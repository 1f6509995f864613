"""The pre–post effect size and its 95% CI on simulated data with known truth (coverage, bias).

Pre and post scores are bivariate normal with pre SD 1, correlation rho and a true mean fall of
delta, so the true standardised mean change is delta (Becker 1988; Morris 2000). Each test draws
2 000 samples with a fixed seed and checks how often :func:`service.effect_size`'s interval holds
delta. The tolerance (±2 points around 95%) is about three binomial standard errors at 2 000
samples (sqrt(0.95·0.05/2000) ≈ 0.5 points) plus the approximation's own small-sample shortfall.
"""

from __future__ import annotations

import numpy as np
import pytest

from interpersonal.core.outcomes import service

SAMPLES = 2_000


def coverage_and_bias(n: int, delta: float, rho: float, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    pre = rng.standard_normal((SAMPLES, n))
    post = rho * pre + np.sqrt(1 - rho**2) * rng.standard_normal((SAMPLES, n)) - delta
    change = pre - post
    sd_first = pre.std(axis=1, ddof=1)
    r = np.array([np.corrcoef(a, b)[0, 1] for a, b in zip(pre, post, strict=True)])
    hits, ds = 0, []
    for mean_change, sd, corr in zip(change.mean(axis=1), sd_first, r, strict=True):
        es = service.effect_size(n, float(mean_change), float(sd), float(corr))
        assert es.d is not None
        assert es.ci_low is not None
        assert es.ci_high is not None
        hits += es.ci_low <= delta <= es.ci_high
        ds.append(es.d)
    return hits / SAMPLES, float(np.mean(ds)) - delta


@pytest.mark.parametrize(("n", "delta", "rho", "seed"), [(20, 0.8, 0.5, 1), (20, 0.5, 0.8, 2), (50, 0.8, 0.5, 3),
                                                        (50, 1.2, 0.3, 4)])
def test_ci_covers_the_true_d_about_95_percent_of_the_time_from_the_minimum_n(n, delta, rho, seed) -> None:
    coverage, bias = coverage_and_bias(n, delta, rho, seed)

    assert 0.93 <= coverage <= 0.97, f"n={n}: coverage {coverage:.3f}"
    assert abs(bias) < 0.1 * delta, f"n={n}: bias {bias:.3f}"  # d's small-sample bias is about 3/(4(n−1)−1)·d


def test_below_the_minimum_the_ci_would_undercover() -> None:
    """Why the minimum exists: at n = 3 the nominal 95% interval misses far more often than 5%."""
    rng = np.random.default_rng(5)
    n, delta, rho = 3, 0.8, 0.5
    pre = rng.standard_normal((SAMPLES, n))
    post = rho * pre + np.sqrt(1 - rho**2) * rng.standard_normal((SAMPLES, n)) - delta
    hits = 0
    for a, b in zip(pre, post, strict=True):
        d = float((a - b).mean() / a.std(ddof=1))
        r = float(np.corrcoef(a, b)[0, 1])
        se = np.sqrt(max(2 * (1 - r) / n + d * d / (2 * n), 0.0))
        hits += d - service.Z_95 * se <= delta <= d + service.Z_95 * se
    assert hits / SAMPLES < 0.91
    assert service.effect_size(n, 1.0, 1.0, 0.5).d is None


def test_first_scores_that_do_not_vary_give_no_d_and_say_why() -> None:
    es = service.effect_size(25, 3.0, 0.0, None)

    assert (es.d, es.ci_low, es.ci_high) == (None, None, None)
    assert es.withheld == "The first scores do not vary, so an effect size cannot be worked out."
