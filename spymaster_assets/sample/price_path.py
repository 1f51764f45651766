"""The latent ES price path of a sample day, one value per second, with level reactions.

A mean-reverting random walk whose volatility follows session activity. During regular hours,
whenever the path comes close to a whole SPY dollar (a strike / round level), it may react:
with probability `reaction_prob` it moves `reaction_size` points either back (a bounce) or on
through (a break) within `reaction_seconds`. That gives later physics and labels both outcomes.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def latent_path(
    start: float,
    vol: np.ndarray,
    normals: np.ndarray,
    uniforms: np.ndarray,
    anchor: float,
    kappa: float,
    rth_start: int,
    rth_end: int,
    level_step: float,
    zone: float,
    reaction_prob: float,
    break_share: float,
    reaction_size: float,
    reaction_seconds: int,
) -> np.ndarray:
    n = len(vol)
    out = np.empty(n)
    x = start
    react_left = 0
    react_step = 0.0
    cooldown = 0
    last_level = np.nan
    for t in range(n):
        if react_left > 0:
            x += react_step + 0.3 * vol[t] * normals[t]
            react_left -= 1
            if react_left == 0:
                # Let the market settle before the next reaction, so reactions do not chain.
                cooldown = reaction_seconds * 2
        else:
            x += vol[t] * normals[t] + kappa * (anchor - x)
            if cooldown > 0:
                cooldown -= 1
            elif rth_start <= t < rth_end and t >= 60:
                level = np.round(x / level_step) * level_step
                if abs(x - level) <= zone and level != last_level:
                    last_level = level
                    if uniforms[3 * t] < reaction_prob:
                        # +1 when coming from below (price rising into the level)
                        approach = 1.0 if x >= out[t - 60] else -1.0
                        through = uniforms[3 * t + 1] < break_share
                        side = approach if through else -approach
                        size = reaction_size * (0.9 + 0.6 * uniforms[3 * t + 2])
                        react_left = reaction_seconds
                        react_step = (level + side * size - x) / reaction_seconds
        out[t] = x
    return out
