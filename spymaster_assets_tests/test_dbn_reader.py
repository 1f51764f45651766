"""Every real Databento file in ../shared/data/external decodes (or is refused) correctly."""

from __future__ import annotations

import datetime as dt

import databento as db
import numpy as np
import pandas as pd
import pytest

from spymaster_assets.market.dbn_reader import (
    instrument_symbols,
    iter_records,
    open_dbn,
    read_all_records,
)
from spymaster_assets.market.dbn_stream import iter_record_chunks
from spymaster_assets.market.errors import RawDataError

SINGLE_SCHEMA_GLBX = [
    "databento-python/test_data.definition.dbn.zst",
    "databento-python/test_data.mbp-1.dbn.zst",
    "databento-python/test_data.mbp-10.dbn.zst",
    "databento-python/test_data.ohlcv-1m.dbn.zst",
    "databento-python/test_data.trades.dbn.zst",
    "dbn/test_data.mbp-10.dbn",
    "dbn/test_data.mbp-10.v1.dbn.zst",
    "dbn/test_data.mbp-10.v2.dbn.zst",
    "dbn/test_data.mbp-10.v3.dbn.zst",
    "dbn/test_data.trades.dbn",
    "dbn/test_data.trades.v1.dbn.zst",
    "dbn/test_data.trades.v2.dbn.zst",
    "dbn/test_data.trades.v3.dbn.zst",
    "nautilus_trader/definition-glbx-es-fut.dbn.zst",
    "nautilus_trader/definition-glbx-es-futspread.dbn.zst",
    "nautilus_trader/esh4-glbx-mdp3-20231225.mbo.dbn.zst",
    "nautilus_trader/futures_definition.dbn.zst",
    "nautilus_trader/futures_mbp-1_2024-07-01T23-58_2024-07-02T00-02.dbn.zst",
    "nautilus_trader/futures_ohlcv-1m_2024-07-01T23-40_2024-07-02T00-10.dbn.zst",
    "nautilus_trader/futures_trades_2024-07-01T23-58_2024-07-02T00-02.dbn.zst",
]


def file_day(store: db.DBNStore) -> dt.date:
    return pd.Timestamp(store.metadata.start, unit="ns", tz="UTC").date()


def test_the_list_covers_every_external_dbn_file(external_dir):
    on_disk = {
        str(p.relative_to(external_dir))
        for p in external_dir.glob("*/*")
        if ".dbn" in p.name or p.suffix == ".dbz"
    }
    refused = {
        "databento-python/test_data.live.dbn.zst",
        "dbn/test_data.trades.dbz",
        "nautilus_trader/definition-opra.dbn.zst",
    }
    assert on_disk == set(SINGLE_SCHEMA_GLBX) | refused


@pytest.mark.parametrize("name", SINGLE_SCHEMA_GLBX)
def test_decodes_exactly_what_the_official_client_decodes_across_chunk_boundaries(
    external_dir, name
):
    path = external_dir / name
    official = db.DBNStore.from_file(path)
    expected = official.to_ndarray()
    schema = str(official.metadata.schema)
    day = file_day(official)
    store = open_dbn(path, schema, day)
    chunks = list(iter_records(store, path, day, chunk_records=3))
    assert all(len(c) <= 3 for c in chunks)
    got = np.concatenate(chunks)
    assert got.dtype == expected.dtype
    assert np.array_equal(got, expected)


def test_dbn_versions_1_2_3_and_uncompressed_give_the_same_trades(external_dir):
    arrays = []
    for name in ("v1.dbn.zst", "v2.dbn.zst", "v3.dbn.zst", "dbn"):
        path = external_dir / "dbn" / f"test_data.trades.{name}"
        store = open_dbn(path, "trades", dt.date(2020, 12, 28))
        arrays.append(read_all_records(store, path, dt.date(2020, 12, 28)))
    for other in arrays[1:]:
        for field in ("ts_event", "price", "size", "side", "instrument_id", "sequence"):
            assert np.array_equal(arrays[0][field], other[field]), field


def test_symbol_mappings_resolve_instrument_ids_for_the_day(external_dir):
    path = external_dir / "nautilus_trader/futures_trades_2024-07-01T23-58_2024-07-02T00-02.dbn.zst"
    store = open_dbn(path, "trades", dt.date(2024, 7, 1))
    assert instrument_symbols(store, dt.date(2024, 7, 1)) == {118: "ESU4"}


@pytest.mark.parametrize(
    "name, schema, problem",
    [
        ("databento-python/test_data.live.dbn.zst", "trades", "mixed-schema"),
        ("dbn/test_data.trades.dbz", "trades", "legacy DBZ"),
        ("nautilus_trader/definition-opra.dbn.zst", "trades", "wrong dataset 'OPRA.PILLAR'"),
        ("databento-python/test_data.mbp-10.dbn.zst", "trades", "wrong schema 'mbp-10'"),
        ("databento-python/test_data.trades.dbn.zst", "mbp-10", "wrong schema 'trades'"),
    ],
)
def test_refuses_files_it_must_not_read_naming_file_day_and_problem(
    external_dir, name, schema, problem
):
    path = external_dir / name
    day = dt.date(2020, 12, 28)
    with pytest.raises(RawDataError) as info:
        open_dbn(path, schema, day)
    message = str(info.value)
    assert problem in message and str(path) in message and "2020-12-28" in message


def test_refuses_a_file_of_another_date(external_dir):
    path = external_dir / "databento-python/test_data.trades.dbn.zst"
    with pytest.raises(RawDataError, match="not this trading day"):
        open_dbn(path, "trades", dt.date(2021, 1, 4))


def test_truncated_file_is_an_error_not_a_warning(sample_root, tmp_path):
    from spymaster_assets.paths import DataLayout

    from .conftest import SAMPLE_DAY

    good = DataLayout(sample_root).dbn_path("mbp-10", SAMPLE_DAY).read_bytes()
    path = tmp_path / "cut.mbp-10.dbn.zst"
    path.write_bytes(good[: len(good) // 2])
    store = open_dbn(path, "mbp-10", SAMPLE_DAY)
    with pytest.raises(RawDataError, match="truncated"):
        for _ in iter_records(store, path, SAMPLE_DAY, 10_000):
            pass


@pytest.mark.parametrize("where", [0.01, 0.7])
def test_corrupt_compressed_data_is_an_error(sample_root, tmp_path, where):
    from spymaster_assets.paths import DataLayout

    from .conftest import SAMPLE_DAY

    good = bytearray(DataLayout(sample_root).dbn_path("mbp-10", SAMPLE_DAY).read_bytes())
    at = int(len(good) * where)
    good[at : at + 100] = bytes(100)
    path = tmp_path / "bad.mbp-10.dbn.zst"
    path.write_bytes(bytes(good))
    with pytest.raises(RawDataError, match="corrupt"):
        store = open_dbn(path, "mbp-10", SAMPLE_DAY)
        for _ in iter_records(store, path, SAMPLE_DAY, 10_000):
            pass


def test_missing_and_empty_files(tmp_path):
    day = dt.date(2025, 11, 20)
    with pytest.raises(RawDataError, match="missing raw file"):
        open_dbn(tmp_path / "nope.trades.dbn.zst", "trades", day)
    empty = tmp_path / "empty.trades.dbn.zst"
    empty.write_bytes(b"")
    with pytest.raises(RawDataError, match="empty file"):
        open_dbn(empty, "trades", day)
    junk = tmp_path / "junk.trades.dbn"
    junk.write_bytes(b"hello world, not a DBN file")
    with pytest.raises(RawDataError, match="not a DBN file"):
        open_dbn(junk, "trades", day)


# The streaming decoder of the bronze path (market/dbn_stream.py) against the official client.
STREAMED = [n for n in SINGLE_SCHEMA_GLBX if ".trades." in n or ".mbp-10." in n or "_trades_" in n]


@pytest.mark.parametrize("chunk_records", [1, 3, 1000])
@pytest.mark.parametrize("name", STREAMED)
def test_the_chunked_decoder_returns_exactly_the_official_records(
    external_dir, name, chunk_records
):
    path = external_dir / name
    official = db.DBNStore.from_file(path)
    expected = official.to_ndarray()
    schema = str(official.metadata.schema)
    chunks = [c.copy() for c in iter_record_chunks(path, file_day(official), schema, chunk_records)]
    assert all(0 < len(c) <= chunk_records for c in chunks)
    got = np.concatenate(chunks)
    assert got.dtype == expected.dtype
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("chunk_records", [997, 10_000, 1 << 20])
@pytest.mark.parametrize("schema", ["trades", "mbp-10"])
def test_the_chunked_decoder_matches_the_official_client_on_generated_days(
    sample_root, schema, chunk_records
):
    from spymaster_assets.paths import DataLayout

    from .conftest import SAMPLE_DAY

    path = DataLayout(sample_root).dbn_path(schema, SAMPLE_DAY)
    expected = db.DBNStore.from_file(path).to_ndarray()
    got = np.concatenate(
        [c.copy() for c in iter_record_chunks(path, SAMPLE_DAY, schema, chunk_records)]
    )
    assert len(got) == len(expected) > chunk_records or chunk_records == 1 << 20
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("cut", [0.5, -1, -4])
def test_the_chunked_decoder_refuses_a_cut_file_even_at_a_record_boundary(
    sample_root, tmp_path, cut
):
    from spymaster_assets.paths import DataLayout

    from .conftest import SAMPLE_DAY

    good = DataLayout(sample_root).dbn_path("trades", SAMPLE_DAY).read_bytes()
    end = int(len(good) * cut) if cut > 0 else len(good) + cut
    path = tmp_path / "cut.trades.dbn.zst"
    path.write_bytes(good[:end])
    with pytest.raises(RawDataError, match="truncated"):
        for _ in iter_record_chunks(path, SAMPLE_DAY, "trades", 1000):
            pass


def test_the_chunked_decoder_refuses_records_of_another_schema(external_dir):
    path = external_dir / "databento-python/test_data.mbp-10.dbn.zst"
    with pytest.raises(RawDataError, match="not a trades record"):
        list(iter_record_chunks(path, dt.date(2020, 12, 28), "trades", 10))
