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


@njit(cache=True)
def bs_delta_gamma(spot: float, strike: float, t: float, rate: float, vol: float, is_call: bool):
    sd = vol * math.sqrt(t)
    d1 = (math.log(spot / strike) + (rate + 0.5 * vol * vol) * t) / sd
    gamma = norm_pdf(d1) / (spot * sd)
    delta = norm_cdf(d1) if is_call else norm_cdf(d1) - 1.0
    return delta, gamma


@njit(cache=True)
def bs_price_vega(
    spot: float, strike: float, t: float, rate: float, vol: float, is_call: bool
) -> tuple[float, float]:
    sqrt_t = math.sqrt(t)
    sd = vol * sqrt_t
    d1 = (math.log(spot / strike) + (rate + 0.5 * vol * vol) * t) / sd
    d2 = d1 - sd
    disc = strike * math.exp(-rate * t)
    if is_call:
        price = spot * norm_cdf(d1) - disc * norm_cdf(d2)
    else:
        price = disc * norm_cdf(-d2) - spot * norm_cdf(-d1)
    return price, spot * norm_pdf(d1) * sqrt_t


@njit(cache=True)
def implied_vol(
    price: float,
    spot: float,
    strike: float,
    t: float,
    rate: float,
    is_call: bool,
    vol_lo: float,
    vol_hi: float,
) -> float:
    """Volatility whose Black-Scholes price equals `price` in [vol_lo, vol_hi].

    Newton steps on vega inside a bisection bracket (Numerical Recipes' rtsafe): a few
    iterations near the money, bisection where vega vanishes (far wings, the last minutes).
    NaN when the price is outside the no-arbitrage bounds or outside the prices the bracket
    can produce (the caller falls back to another estimate).
    """
    disc = strike * math.exp(-rate * t)
    lower = max(spot - disc, 0.0) if is_call else max(disc - spot, 0.0)
    upper = spot if is_call else disc
    if not (lower < price < upper):
        return np.nan
    p_lo = bs_price(spot, strike, t, rate, vol_lo, is_call)
    p_hi = bs_price(spot, strike, t, rate, vol_hi, is_call)
    if price < p_lo or price > p_hi:
        return np.nan
    lo, hi = vol_lo, vol_hi
    # Brenner-Subrahmanyam: the at-the-money price is about spot * vol * sqrt(t / 2 pi)
    vol = price / spot * math.sqrt(2.0 * math.pi / t)
    if not (lo < vol < hi):
        vol = 0.5 * (lo + hi)
    for _ in range(100):
        model, vega = bs_price_vega(spot, strike, t, rate, vol, is_call)
        if model < price:
            lo = vol
        elif model > price:
            hi = vol
        else:
            return vol
        step = (model - price) / vega if vega > 0.0 else np.inf
        nxt = vol - step
        if not (lo < nxt < hi):
            nxt = 0.5 * (lo + hi)
        if abs(nxt - vol) < 1e-10 or hi - lo < 1e-10:
            return nxt
        vol = nxt
    return vol
