"""The bandit-log export: where the truth goes, what is refused before simulating, what is written."""

import pyarrow.parquet as pq
import pytest

from basketgym.contract.errors import OutputPathError
from basketgym.eval.orchestration.bandit_logs import check_log_out, collect, logging_policy, truth_path, write_log
from basketgym.rankers import make_ranker
from basketgym.sim.config import load_scenario


def test_the_truth_sits_beside_the_log():
    assert str(truth_path("out/logs.parquet")) == "out/logs.truth.parquet"


def test_an_unwritable_export_is_refused_before_anything_runs(tmp_path):
    (tmp_path / "d.parquet").mkdir()
    with pytest.raises(OutputPathError, match=r"--out .*d\.parquet: is a directory, not a file"):
        check_log_out(tmp_path / "d.parquet", truth=False)
    (tmp_path / "x.truth.parquet").mkdir()
    check_log_out(tmp_path / "x.parquet", truth=False)  # no targets: the truth's path does not matter
    with pytest.raises(OutputPathError, match=r"--out \(its \.truth\.parquet\)"):
        check_log_out(tmp_path / "x.parquet", truth=True)


def test_the_log_and_its_truth_are_written_row_aligned(tmp_path):
    cfg = load_scenario("smoke").replace(days=3)
    logger, name = logging_policy("popularity", 0.2)
    assert name == "popularity+eps0.2" and logging_policy("popularity", 0.2, 0.5)[1] == "popularity+pl0.5"
    log = collect(cfg, logger, {"buy_again": make_ranker("buy_again")}, 11, name)
    truth = write_log(log, tmp_path / "l.parquet", "0.1.0")
    assert truth == tmp_path / "l.truth.parquet"
    table, true = pq.read_table(tmp_path / "l.parquet"), pq.read_table(truth)
    assert table.num_rows == true.num_rows == len(log.table["day"]) > 100
    assert table.column("session_id").equals(true.column("session_id"))
    bare = collect(cfg, logging_policy("popularity", 0.2)[0], {}, 11, name)
    assert write_log(bare, tmp_path / "b.parquet", "0.1.0") is None and not (tmp_path / "b.truth.parquet").exists()
