"""The event log: every table's schema as a world writes it, buffers, and the Parquet round trip."""

import numpy as np
import pytest

from basketgym.contract.logs import PURCHASE_COLUMNS, SESSION_COLUMNS, SLATE_COLUMNS, TABLES
from basketgym.rankers import make_ranker
from basketgym.sim.config import load_scenario
from basketgym.sim.eventlog import LogBuffer, read_table, to_arrow, write_parquet_atomic
from basketgym.sim.world import World


@pytest.fixture(scope="module")
def result():
    cfg = load_scenario("smoke").replace(days=6)
    return World(cfg, 3, make_ranker("popularity"), "popularity").run()


@pytest.mark.parametrize("name", ["slates", "purchases", "sessions", "shoppers"])
def test_every_table_has_exactly_its_schema(result, name):
    table, columns = getattr(result, name), TABLES[name]
    assert list(table) == list(columns)
    rows = {len(a) for a in table.values()}
    assert len(rows) == 1 and rows.pop() > 0
    for col, (dtype, _) in columns.items():
        base = dtype.split("[")[0]
        assert table[col].dtype == np.dtype(base), col
        assert table[col].ndim == (2 if "[" in dtype else 1), col
    if name == "slates":
        assert table["slate"].shape[1] == 10  # the wider of the two surfaces


def test_logged_values_tie_together(result):
    s, p = result.sessions, result.purchases
    assert np.array_equal(s["session_id"], (s["day"].astype(np.int64) << 32) | s["shopper_id"])
    lines = np.bincount(np.searchsorted(s["session_id"], p["session_id"]), minlength=len(s["day"]))
    assert np.array_equal(lines, s["n_lines"])
    assert np.allclose(np.bincount(np.searchsorted(s["session_id"], p["session_id"]), p["price"]), s["gtv"], atol=1e-3)


def test_buffer_concatenates_batches_in_order_and_an_empty_one_is_read_only():
    buf = LogBuffer(SESSION_COLUMNS)
    batch = {c: np.arange(3).astype(d.split("[")[0]) for c, (d, _) in SESSION_COLUMNS.items()}
    buf.append(batch)
    buf.append({c: a[:1] + 7 for c, a in batch.items()})
    out = buf.concat()
    assert out["n_lines"].tolist() == [0, 1, 2, 7] and out["gtv"].dtype == np.float32
    empty = LogBuffer(SLATE_COLUMNS).concat()
    assert empty["slate"].shape == (0, 0) and empty["day"].shape == (0,)
    assert not empty["day"].flags.writeable


def test_parquet_round_trip_keeps_values_dtypes_and_list_columns(result, tmp_path):
    for name, columns in (("slates", SLATE_COLUMNS), ("purchases", PURCHASE_COLUMNS)):
        table = getattr(result, name)
        path = tmp_path / f"{name}.parquet"
        write_parquet_atomic(to_arrow(table, columns, extra={"ranker": "popularity"}), path)
        back = read_table(path)
        assert list(back) == [*columns, "ranker"] and set(back["ranker"]) == {"popularity"}
        for col in columns:
            assert back[col].dtype == table[col].dtype and np.array_equal(back[col], table[col]), col
    assert sorted(p.name for p in tmp_path.iterdir()) == ["purchases.parquet", "slates.parquet"]  # no temp files
