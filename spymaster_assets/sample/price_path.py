"""The latent ES price path of a sample day, one value per second, with level touches.

A mean-reverting random walk whose volatility follows session activity. During regular hours,
whenever the path comes within `zone` of a whole SPY dollar (a strike / round level) it
*touches* it: to the end of the next TOUCH_BARS whole minutes (the touch bars) price walks on
but the level holds (a step across it is reflected back), and then price may react: move
`reaction_size` points back (a bounce) or on through (a break) within `reaction_seconds`.

What the book does during the touch is drawn at the touch, as the generator draws liquidity
episodes anywhere else in the day: quiet (steady flow), or an episode (pull, consume or
replenish, see book_sim.py) on the side defending the level. Whether and which way price then
reacts is drawn per such *rule* (`react_prob`, `break_share`, one entry per rule). The
generator fills those tables for its two worlds (generator.touch_rules): in the planted world
they differ by rule, so the touch bars' book and tape tell what follows; in the null world no
touch is followed by a reaction and reactions come instead at random moments
(`spontaneous_rate`), so nothing in a touch, not even that it is one, tells what follows.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Touch rules, in the order of the tables passed to latent_path: quiet, then the kind of the
# episode on the defending side.
TOUCH_QUIET, TOUCH_PULL, TOUCH_CONSUME, TOUCH_REPLENISH = 0, 1, 2, 3
TOUCH_RULES = ("quiet", "pull", "consume", "replenish")
NOT_A_TOUCH = -1  # touch_rule outside touch bars: the day's background episodes apply
TOUCH_BARS = 2  # whole one-minute bars a touch lasts after the minute it began in


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
    rule_cdf: np.ndarray,
    react_prob: np.ndarray,
    break_share: np.ndarray,
    reaction_size: float,
    reaction_seconds: int,
    spontaneous_rate: float,
    touch_rule: np.ndarray,
) -> np.ndarray:
    """The path, one price per second; `touch_rule` (int8, one per second) receives the rule
    of the touch each second belongs to (TOUCH_RULES index), NOT_A_TOUCH outside touches.

    `uniforms` holds four draws per second; `rule_cdf` is the cumulative probability of the
    rules, `react_prob` and `break_share` the reaction tables per rule (TOUCH_RULES order);
    `spontaneous_rate` the chance per regular-hours second, outside touches and reactions, of a
    reaction anywhere, either way.
    """
    n = len(vol)
    out = np.empty(n)
    x = start
    react_left = 0
    react_step = 0.0
    cooldown = 0
    touch_left = 0
    rule = 0
    reacts = False
    through = False
    size = 0.0
    touch_level = 0.0
    approach = 1.0
    for t in range(n):
        touch_rule[t] = NOT_A_TOUCH
        if touch_left > 0:
            x += vol[t] * normals[t]
            if (x - touch_level) * approach > 0:
                # the level holds during the touch: price is reflected back to its side, so
                # every touch bar opens and closes on the side it came from
                x = 2.0 * touch_level - x
            touch_rule[t] = rule
            touch_left -= 1
            if touch_left == 0 and reacts:
                side = approach if through else -approach
                react_left = reaction_seconds
                react_step = (touch_level + side * size - x) / reaction_seconds
        elif react_left > 0:
            x += react_step + 0.3 * vol[t] * normals[t]
            react_left -= 1
            if react_left == 0:
                # Let the market settle before the next reaction, so reactions do not chain.
                cooldown = 2 * reaction_seconds
        else:
            x += vol[t] * normals[t] + kappa * (anchor - x)
            if cooldown > 0:
                cooldown -= 1
            elif rth_start <= t < rth_end and uniforms[4 * t + 1] < spontaneous_rate:
                # a reaction that owes nothing to a level or a touch (the null world's)
                react_left = reaction_seconds
                up = 1.0 if uniforms[4 * t + 2] < 0.5 else -1.0
                react_step = up * reaction_size * (0.9 + 0.6 * uniforms[4 * t]) / reaction_seconds
            elif rth_start <= t < rth_end and t >= 60:
                level = np.round(x / level_step) * level_step
                if abs(x - level) <= zone:
                    rule = 0
                    while rule < 3 and uniforms[4 * t + 3] >= rule_cdf[rule]:
                        rule += 1
                    touch_rule[t] = rule
                    # to the end of the next TOUCH_BARS whole minutes: full bars hold the touch
                    touch_left = (t // 60 + 1 + TOUCH_BARS) * 60 - t - 1
                    touch_level = level
                    # +1 when coming from below (price rising into the level)
                    approach = 1.0 if x >= out[t - 60] else -1.0
                    reacts = uniforms[4 * t] < react_prob[rule]
                    through = uniforms[4 * t + 1] < break_share[rule]
                    size = reaction_size * (0.9 + 0.6 * uniforms[4 * t + 2])
        out[t] = x
    return out
