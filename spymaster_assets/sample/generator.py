"""One sample trading day: Databento trades + MBP-10 (ES.FUT parent file) and Polygon options.

Deterministic for (seed, date). Everything per record is vectorised or runs in Numba kernels;
the MBP-10 file is produced and compressed window by window, so memory stays bounded even for
the `full` profile (about six million front-month book records).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from spymaster_assets.market.dbn_format import (
    F_LAST,
    MBP10_DTYPE,
    PRICE_SCALE,
    PUBLISHER_GLBX,
    RTYPE_MBP10,
    RTYPE_TRADES,
    TRADE_DTYPE,
    UNDEF_PRICE,
)
from spymaster_assets.market.dbn_writer import write_dbn
from spymaster_assets.market.trading_calendar import NS_PER_SECOND, session_windows
from spymaster_assets.paths import DataLayout
from spymaster_assets.sample.activity import SECONDS_PER_DAY, activity_profile, event_times
from spymaster_assets.sample.book_sim import (
    CONSUME,
    EMPTY_LEVEL,
    PULL,
    REPLENISH,
    allocate_outputs,
    init_book,
    regime_code,
    simulate_book,
)
from spymaster_assets.sample.contracts import (
    calendar_spread_symbol,
    dominant_contract,
    spread_instrument_id,
)
from spymaster_assets.sample.options_tape import option_trades, write_polygon_csv_gz
from spymaster_assets.sample.price_path import NOT_A_TOUCH, latent_path
from spymaster_assets.storage import data_root
from spymaster_assets.vocabulary import N_LEVELS, level_field

ES_TICK = 0.25
SPREAD_TICK = 0.05


@dataclass(frozen=True)
class Profile:
    front_events: int  # book events of the dominant contract over the UTC day
    option_trades: int
    window_events: int = 400_000  # dominant-contract events per generation window
    level_size: float = 28.0  # mean contracts per front-month book level (ES is deep when busy)
    pull_prob: float = 0.5  # when price runs ahead of the book: pull the quote (else sweep it)
    episode_share: float = 0.0  # of the day, the part in liquidity episodes (book_sim.py)


PROFILES = {
    "demo": Profile(front_events=120_000, option_trades=30_000, episode_share=0.5),
    "full": Profile(
        front_events=5_250_000,
        option_trades=700_000,
        level_size=250.0,
        pull_prob=1.0,  # quotes in the way are pulled: sweeps come from consumption episodes
        episode_share=0.5,
    ),
}


WORLDS = ("planted", "null")


@dataclass(frozen=True)
class MarketShape:
    """Knobs of the simulated market; defaults give a plausible ES day."""

    reaction_prob: float = 0.45  # chance that a touch of a whole SPY dollar triggers a reaction
    break_share: float = 0.5  # of reactions, the share that go through the level
    # Known-truth worlds (SPEC §12, docs/sample-data.md). planted: the touch bar's book and
    # tape decide the reaction; null: the same touches, as many reactions, at random moments.
    world: str = "planted"
    planted_break_share: float = 0.95  # breaks after a pull or consume (1 - this: replenish)
    quiet_reaction_factor: float = 0.1  # quiet touches react this much less often (planted)
    # null world: reactions come at random moments of regular hours outside touches and
    # reactions, reaction_prob times this many an hour: about as many a day as the planted
    # world's touches give (measured on generated days; a test compares the two)
    free_touches_per_hour: float = 12.2
    reaction_size_es: float = 24.0  # ES points travelled by a reaction
    reaction_seconds: int = 30
    daily_sigma: float = 0.0045  # fraction of price: spread of the day's diffusion
    es_spy_ratio: float = 10.0
    front_share: float | None = None  # RTH volume share of the dominant outright (None: auto)
    risk_free_rate: float = 0.045


def touch_rules(
    shape: MarketShape, episode_share: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The touch tables of price_path.latent_path for the shape's world.

    A touch bar draws its episode as any stretch of the day does (liquidity_regimes: with
    probability `episode_share`, one of the three kinds, on the side defending the nearest
    whole dollar), so its book alone does not give it away. Returned: the cumulative
    probabilities of no episode and of each kind, per rule (quiet, pull, consume, replenish)
    the chance of a reaction and the share of reactions that break, and the chance per free
    regular-hours second of a reaction owing nothing to a touch.

    planted: pull and consume precede breaks, replenishment bounces, and quiet touches seldom
    react; null: touches are never followed by a reaction, and as many reactions come at
    random moments instead (a held level shows in the fills and the tape, so reactions tied
    to touches, even with random rules, would let the physics tell that a move is near)."""
    if shape.world not in WORLDS:
        raise ValueError(f"world must be one of {', '.join(WORLDS)}, got {shape.world!r}")
    s = episode_share
    rule_p = np.array([1.0 - s, s / 3, s / 3, s / 3])
    quiet = shape.reaction_prob * shape.quiet_reaction_factor
    episode = (shape.reaction_prob - rule_p[0] * quiet) / s if s > 0 else 0.0
    react = np.clip(np.array([quiet, episode, episode, episode]), 0.0, 1.0)
    pb = shape.planted_break_share
    brk = np.array([shape.break_share, pb, pb, 1.0 - pb])
    spontaneous = 0.0
    if shape.world == "null":
        # as many reactions, at random moments instead of after touches
        spontaneous = shape.reaction_prob * shape.free_touches_per_hour / 3600.0
        react = np.zeros(4)
    return np.cumsum(rule_p), react, brk, spontaneous


@dataclass
class Instrument:
    raw_symbol: str
    instrument_id: int
    tick: float
    events: int
    offset_es: float  # added to the latent ES path (for the spread: its own level)
    n_active_levels: int
    mean_size: float
    p_trade: float
    own_noise: float = 0.0  # spreads wander on their own
    ts_event: np.ndarray = field(default=None, repr=False)
    ts_recv: np.ndarray = field(default=None, repr=False)
    target: np.ndarray = field(default=None, repr=False)
    sequence: np.ndarray = field(default=None, repr=False)
    ts_in_delta: np.ndarray = field(default=None, repr=False)


@dataclass
class GeneratedDay:
    day: dt.date
    paths: dict[str, Path]
    records: dict[str, int]
    instruments: dict[str, int]
    seconds: float


def start_price(day: dt.date, rng: np.random.Generator) -> float:
    """ES level of the day: a slow deterministic trend plus day-to-day noise."""
    days = (day - dt.date(2025, 1, 2)).days
    return float(5900.0 + 0.9 * days + 70.0 * np.sin(days / 23.0) + rng.normal(0.0, 12.0))


def _instruments(day: dt.date, profile: Profile, shape: MarketShape, ref_price: float):
    dominant, other, roll_day = dominant_contract(day)
    share = shape.front_share or (0.75 if roll_day else 0.965)
    near, far = sorted([dominant, other], key=lambda c: c.expiry)
    carry = round(ref_price * 0.008 / ES_TICK) * ES_TICK
    # The latent path is the dominant contract's price; the other outright sits one carry away.
    other_offset = carry if other is far else -carry
    spread_level = -carry  # near minus far
    n = profile.front_events
    return [
        Instrument(
            dominant.raw_symbol, dominant.instrument_id, ES_TICK, n, 0.0, N_LEVELS, 28.0, 0.115
        ),
        Instrument(
            other.raw_symbol,
            other.instrument_id,
            ES_TICK,
            max(200, int(n * (1 - share) / share)),
            other_offset,
            N_LEVELS,
            12.0,
            0.115,
        ),
        Instrument(
            calendar_spread_symbol(near, far),
            spread_instrument_id(near, far),
            SPREAD_TICK,
            max(200, int(n * 0.03)),
            spread_level,
            5,
            60.0,
            0.08,
            own_noise=0.6,
        ),
    ]


def _prepare_events(
    inst: Instrument,
    rng: np.random.Generator,
    rate: np.ndarray,
    path: np.ndarray,
    day_start_ns: int,
) -> None:
    inst.ts_event = event_times(rng, rate, inst.events, day_start_ns)
    latency = rng.integers(5_000, 60_000, len(inst.ts_event))
    inst.ts_recv = np.maximum.accumulate(inst.ts_event + latency)
    inst.ts_in_delta = rng.integers(3_000, 30_000, len(inst.ts_event)).astype(np.int32)
    sec = (inst.ts_event - day_start_ns) // NS_PER_SECOND
    if inst.own_noise:
        wander = np.cumsum(
            rng.normal(0.0, inst.own_noise / np.sqrt(SECONDS_PER_DAY), SECONDS_PER_DAY)
        )
        price = inst.offset_es + wander[sec]
    else:
        price = path[sec] + inst.offset_es
    inst.target = price / inst.tick


def _assign_sequences(instruments: list[Instrument]) -> None:
    """Channel sequence numbers in ts_recv order across instruments, as the venue sends them."""
    recv = np.concatenate([i.ts_recv for i in instruments])
    owner = np.concatenate([np.full(len(i.ts_recv), k) for k, i in enumerate(instruments)])
    order = np.argsort(recv, kind="stable")
    seq = np.empty(len(recv), dtype=np.int64)
    seq[order] = np.arange(1_000_000, 1_000_000 + len(recv))
    for k, inst in enumerate(instruments):
        inst.sequence = seq[owner == k]


def _records(dtype: np.dtype, rtype: int, inst: Instrument, events: np.ndarray) -> np.ndarray:
    """Records with the header and timing fields of the given events filled in."""
    out = np.zeros(len(events), dtype=dtype)
    out["length"] = dtype.itemsize // 4
    out["rtype"] = rtype
    out["publisher_id"] = PUBLISHER_GLBX
    out["instrument_id"] = inst.instrument_id
    out["ts_event"] = inst.ts_event[events]
    out["ts_recv"] = inst.ts_recv[events]
    out["ts_in_delta"] = inst.ts_in_delta[events]
    out["sequence"] = inst.sequence[events]
    return out


def _to_records(inst: Instrument, lo: int, out: dict, n_rec: int, n_tr: int):
    tick_fixed = round(inst.tick * PRICE_SCALE)
    ev = out["rec_event"][:n_rec] + lo
    mbp = _records(MBP10_DTYPE, RTYPE_MBP10, inst, ev)
    mbp["price"] = out["rec_price"][:n_rec] * tick_fixed
    mbp["size"] = out["rec_size"][:n_rec]
    mbp["action"] = out["rec_action"][:n_rec].view("S1")
    mbp["side"] = out["rec_side"][:n_rec].view("S1")
    mbp["flags"] = out["rec_flags"][:n_rec]
    mbp["depth"] = out["rec_depth"][:n_rec]
    books = out["books"][:n_rec]
    for k in range(N_LEVELS):
        for side, px_i, sz_i in (("bid", 0, 1), ("ask", 2, 3)):
            px = books[:, px_i, k]
            sz = books[:, sz_i, k]
            mbp[level_field(f"{side}_px", k)] = np.where(
                px == EMPTY_LEVEL, UNDEF_PRICE, px * tick_fixed
            )
            mbp[level_field(f"{side}_sz", k)] = sz
            mbp[level_field(f"{side}_ct", k)] = np.where(sz > 0, np.maximum(1, (sz + 4) // 5), 0)

    tev = out["tr_event"][:n_tr] + lo
    trades = _records(TRADE_DTYPE, RTYPE_TRADES, inst, tev)
    trades["price"] = out["tr_price"][:n_tr] * tick_fixed
    trades["size"] = out["tr_size"][:n_tr]
    trades["action"] = b"T"
    trades["side"] = out["tr_side"][:n_tr].view("S1")
    trades["flags"] = F_LAST
    trades["depth"] = 0
    return mbp, trades


EPISODE_SECONDS = (60, 180)  # how long one liquidity episode or stretch of steady flow lasts
# book_sim's episode kind of each touch rule (price_path.TOUCH_RULES; -1: quiet, steady flow)
TOUCH_EPISODES = np.array([-1, PULL, CONSUME, REPLENISH])


def liquidity_regimes(
    rng: np.random.Generator,
    share: float,
    path: np.ndarray,
    level_step: float,
    touch_rule: np.ndarray,
) -> np.ndarray:
    """The regime of every second of the UTC day (book_sim.regime_code; 0 steady flow).

    Outside touches: stretches of one to three minutes, each an episode with probability
    `share`, of a kind drawn at random. In a touch: the episode its rule names (price_path.py),
    so a touch bar's book is drawn as any other bar's. Either way the episode is on the side
    defending the nearest whole SPY dollar (`level_step` ES points), the ask while price is
    below it and the bid while above, as liquidity gathers and leaves around levels."""
    lo, hi = EPISODE_SECONDS
    lengths = rng.integers(lo, hi + 1, SECONDS_PER_DAY // lo + 1)
    kinds = np.where(rng.random(len(lengths)) < share, rng.integers(0, 3, len(lengths)), -1)
    kind = np.repeat(kinds, lengths)[:SECONDS_PER_DAY]
    in_touch = touch_rule != NOT_A_TOUCH
    kind[in_touch] = TOUCH_EPISODES[touch_rule[in_touch]]
    ask_defends = path < np.round(path / level_step) * level_step
    return np.where(kind >= 0, regime_code(kind, ask_defends), 0).astype(np.int8)


def _simulate_windows(
    instruments: list[Instrument],
    rng: np.random.Generator,
    profile: Profile,
    trades_sink: list[np.ndarray],
    regime_by_second: np.ndarray,
    day_start: int,
) -> Iterator[np.ndarray]:
    """Yield MBP-10 record chunks in ts_recv order; collect trade records into `trades_sink`."""
    dom = instruments[0]
    bounds = [int(x) for x in dom.ts_recv[:: profile.window_events][1:]]
    bounds = [np.iinfo(np.int64).min, *bounds, np.iinfo(np.int64).max]
    states = [
        init_book(i.target[0], i.mean_size, i.n_active_levels, rng.random(2 * N_LEVELS))
        for i in instruments
    ]
    for w in range(len(bounds) - 1):
        mbp_parts, trade_parts = [], []
        for inst, state in zip(instruments, states, strict=True):
            lo, hi = np.searchsorted(inst.ts_recv, [bounds[w], bounds[w + 1]], side="left")
            n = int(hi - lo)
            if n == 0:
                continue
            out = allocate_outputs(n)
            n_rec, n_tr = simulate_book(
                state,
                inst.target[lo:hi],
                rng.random((n, 6)),
                inst.n_active_levels,
                inst.p_trade,
                0.52,
                0.08,
                2.2,
                inst.mean_size,
                0.004,
                profile.pull_prob,
                regime_by_second[
                    np.clip(
                        (inst.ts_recv[lo:hi] - day_start) // NS_PER_SECOND, 0, SECONDS_PER_DAY - 1
                    )
                ],
                **out,
            )
            mbp, trades = _to_records(inst, int(lo), out, n_rec, n_tr)
            mbp_parts.append(mbp)
            trade_parts.append(trades)
        if not mbp_parts:
            continue
        mbp = np.concatenate(mbp_parts)
        trades = np.concatenate(trade_parts)
        trades_sink.append(trades[np.argsort(trades["sequence"], kind="stable")])
        # One sequence number per event, in ts_recv order; a stable sort keeps an event's
        # records in their order.
        yield mbp[np.argsort(mbp["sequence"], kind="stable")]


def day_path(
    windows,
    rng: np.random.Generator,
    rate: np.ndarray,
    open_price: float,
    shape: MarketShape,
    episode_share: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The latent price path of the day and its touch rules (price_path.latent_path)."""
    day_start = windows.utc_day_start_ns
    vol = np.sqrt(rate / rate.sum()) * shape.daily_sigma * open_price
    rule_cdf, react_prob, break_share, spontaneous_rate = touch_rules(shape, episode_share)
    touch_rule = np.empty(SECONDS_PER_DAY, np.int8)
    path = latent_path(
        open_price,
        vol,
        rng.standard_normal(SECONDS_PER_DAY),
        rng.random(4 * SECONDS_PER_DAY),
        open_price,
        1.0 / 7200.0,
        (windows.rth_open_ns - day_start) // NS_PER_SECOND,
        (windows.rth_close_ns - day_start) // NS_PER_SECOND,
        shape.es_spy_ratio,
        0.5,
        rule_cdf,
        react_prob,
        break_share,
        shape.reaction_size_es,
        shape.reaction_seconds,
        spontaneous_rate,
        touch_rule,
    )
    return path, touch_rule


def sample_path(
    day: dt.date, seed: int = 7, shape: MarketShape | None = None, profile: str = "demo"
) -> tuple[np.ndarray, np.ndarray]:
    """The latent path and touch rules generate_day draws for (seed, day), without the files:
    for tests and for studying the worlds."""
    shape = shape or MarketShape()
    windows = session_windows(day)
    rng = np.random.default_rng([seed, day.toordinal()])
    rate = activity_profile(windows)
    open_price = start_price(day, rng)
    return day_path(windows, rng, rate, open_price, shape, PROFILES[profile].episode_share)


def generate_day(
    day: dt.date,
    data_dir: Path,
    profile: str = "demo",
    seed: int = 7,
    shape: MarketShape | None = None,
    progress: Callable[[str], None] | None = None,
    volume: float = 1.0,
) -> GeneratedDay:
    """Write the three raw files of `day` under `data_dir`; returns what was written.

    `volume` scales the profile's book events and option trades (the benchmark's 0.25x to 2x
    days); the price path and the market's shape stay the same."""
    started = time.perf_counter()
    shape = shape or MarketShape()
    prof = PROFILES[profile]
    if volume != 1.0:
        if volume <= 0:
            raise ValueError(f"volume must be positive, got {volume}")
        prof = replace(
            prof,
            front_events=max(1_000, round(prof.front_events * volume)),
            option_trades=max(100, round(prof.option_trades * volume)),
        )
    windows = session_windows(day)
    layout = DataLayout(data_root(data_dir))
    rng = np.random.default_rng([seed, day.toordinal()])
    day_start = windows.utc_day_start_ns
    say = progress or (lambda _msg: None)

    rate = activity_profile(windows)
    open_price = start_price(day, rng)
    path, touch_rule = day_path(windows, rng, rate, open_price, shape, prof.episode_share)
    # a stream of its own, so the other draws of the day stay what they were
    regime = liquidity_regimes(
        np.random.default_rng([seed, day.toordinal(), 1]),
        prof.episode_share,
        path,
        shape.es_spy_ratio,
        touch_rule,
    )

    instruments = _instruments(day, prof, shape, open_price)
    for inst in instruments:
        _prepare_events(inst, rng, rate, path, day_start)
    _assign_sequences(instruments)
    mappings = {i.raw_symbol: i.instrument_id for i in instruments}

    say(f"{day}: simulating the ES.FUT book ({sum(i.events for i in instruments):,} events)")
    trade_chunks: list[np.ndarray] = []
    mbp_path = layout.dbn_path("mbp-10", day)
    n_mbp = write_dbn(
        mbp_path,
        schema="mbp-10",
        day=day,
        start_ns=day_start,
        end_ns=windows.utc_day_end_ns,
        mappings=mappings,
        record_chunks=_simulate_windows(
            instruments,
            rng,
            prof,
            trade_chunks,
            regime,
            day_start,
        ),
    )
    trades_path = layout.dbn_path("trades", day)
    n_trades = write_dbn(
        trades_path,
        schema="trades",
        day=day,
        start_ns=day_start,
        end_ns=windows.utc_day_end_ns,
        mappings=mappings,
        record_chunks=trade_chunks,
    )

    say(f"{day}: writing SPY option trades")
    spot = path / shape.es_spy_ratio
    options = option_trades(rng, day, spot, rate, prof.option_trades, shape.risk_free_rate)
    options_path = layout.options_path(day)
    write_polygon_csv_gz(options, options_path)

    return GeneratedDay(
        day=day,
        paths={"trades": trades_path, "mbp-10": mbp_path, "options": options_path},
        records={"trades": n_trades, "mbp-10": n_mbp, "options": options.height},
        instruments=mappings,
        seconds=time.perf_counter() - started,
    )
