"""Confidence intervals for the rates the engine reports.

A proportion x / n gets the Wilson score interval (Wilson 1927), the interval Brown, Cai & DasGupta (2001) and
Newcombe (1998) recommend over the Wald interval for small n and for rates near 0 or 1: it never leaves [0, 1] and
is not degenerate at x = 0 or x = n.
"""

from __future__ import annotations

import math

Z_95 = 1.959963984540054
"""The standard normal quantile of 0.975: a two-sided 95 % interval."""


def wilson_interval(successes: float, n: float, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson score interval of the proportion ``successes / n``; None when ``n`` is 0.

    p̂ = x/n; centre = (p̂ + z²/2n) ÷ (1 + z²/n); half-width = z·√(p̂(1 − p̂)/n + z²/4n²) ÷ (1 + z²/n); the interval is
    centre ± half-width, clipped to [0, 1] against rounding. Source: E. B. Wilson (1927), JASA 22:209–212;
    R. G. Newcombe (1998), Statistics in Medicine 17:857–872, method 3.
    """
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"a proportion needs 0 <= successes <= n, got {successes} of {n}")
    p = successes / n
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
