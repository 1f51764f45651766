"""Black-Scholes prices and greeks (no dividend) as Numba kernels over numpy arrays."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

SQRT_2 = math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@njit(cache=True)
def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / SQRT_2))


@njit(cache=True)
def norm_pdf(x: float) -> float:
    return INV_SQRT_2PI * math.exp(-0.5 * x * x)


@njit(cache=True)
def bs_price(spot: float, strike: float, t: float, rate: float, vol: float, is_call: bool) -> float:
    sd = vol * math.sqrt(t)
    d1 = (math.log(spot / strike) + (rate + 0.5 * vol * vol) * t) / sd
    d2 = d1 - sd
    disc = strike * math.exp(-rate * t)
    if is_call:
        return spot * norm_cdf(d1) - disc * norm_cdf(d2)
    return disc * norm_cdf(-d2) - spot * norm_cdf(-d1)


@njit(cache=True)
def bs_price_array(
    spot: np.ndarray,
    strike: np.ndarray,
    t: np.ndarray,
    rate: float,
    vol: np.ndarray,
    is_call: np.ndarray,
) -> np.ndarray:
    out = np.empty(len(spot))
    for i in range(len(spot)):
        out[i] = bs_price(spot[i], strike[i], t[i], rate, vol[i], is_call[i])
    return out
