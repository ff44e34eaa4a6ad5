"""``basketgym check``: every rule without simulating; passes the bundled scenarios, names the key otherwise."""

import pytest

from basketgym.cli import main
from basketgym.scenarios import bundled


@pytest.mark.parametrize("name", bundled())
def test_check_passes_on_every_bundled_scenario(name, capsys):
    assert main(["check", name]) == 0
    out = capsys.readouterr().out
    assert f"scenario '{name}'" in out and "worlds:" in out and "memory (estimate)" in out
    assert out.rstrip().splitlines()[-1].startswith("ok: every rule holds")


def test_check_prints_the_grid_memory_and_time(capsys):
    assert main(["check", "default", "--jobs", "2", "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert "worlds: 18 (8 ranker worlds, 6 surface ablations, 2 A/B split, 2 A/B switch-everyone) over 2 seed(s)" in out
    assert "at --jobs 2 (2 at a time)" in out and "sessions (estimate): 175,418 per world" in out


def test_check_with_overrides_notes_what_a_shorter_run_leaves_out(capsys):
    assert main(["check", "smoke", "--days", "5", "--rankers", "random"]) == 0
    out = capsys.readouterr().out
    assert "control popularity (an extra twin world)" in out and "worlds: 4 (4 ranker worlds)" in out
    assert "note: --days 5 runs the first 5 of 30 days: never reached: events[0] (promotion, day 10)" in out


def _broken(tmp_path, text: str):
    p = tmp_path / "broken.toml"
    p.write_text(text)
    return p


def test_check_on_a_broken_scenario_names_the_key(tmp_path, capsys):
    p = _broken(tmp_path, "days = 30\n[run]\nhorizons = [7, 14, 30]\n[[events]]\nkind = 'promotion'\nday = 40\n")
    assert main(["check", str(p)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"basketgym: error: {p}: events[0].day = 40: must be below days (30); a promotion then never happens"


def test_check_lists_every_problem(tmp_path, capsys):
    p = _broken(tmp_path, "days = 30\n[run]\nhorizons = []\n[rankers]\nnames = ['random', 'random']\n")
    assert main(["check", str(p)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith(f"basketgym: error: {p}: ") for line in err)
    assert "run.horizons = []" in err[0] and "rankers.names = ['random', 'random']" in err[1]
    assert "rankers.refit_every_days" not in " ".join(err)


def test_check_refuses_an_override_that_breaks_a_rule(capsys):
    assert main(["check", "default", "--days", "30"]) == 2
    err = capsys.readouterr().err
    assert "experiment: days 60-87 do not fit a 30-day run" in err and "Traceback" not in err
    assert main(["check", "default", "--rankers", "random"]) == 2
    assert "evaluation.attribution = ['buy_again']: 'buy_again' must be one of rankers.names ['random']" in (
        capsys.readouterr().err
    )


def test_run_refuses_before_writing_anything(tmp_path, capsys):
    p = _broken(tmp_path, "days = 30\n[run]\nhorizons = [7, 14, 60]\n")
    out = tmp_path / "r"
    assert main(["run", str(p), "--out", str(out)]) == 2
    assert "run.horizons = [7, 14, 60]: [60] longer than days (30)" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob("r*.partial"))
    big = _broken(tmp_path, "days = 30\n[run]\nhorizons = [7, 14, 30]\n[population]\nshoppers = 50000000\n")
    assert main(["run", str(big), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "estimated memory" in err and "available" in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_objective_weights_must_sum_to_one(tmp_path, capsys):
    p = _broken(
        tmp_path,
        "days = 30\n[run]\nhorizons = [7, 30]\n[rankers]\nnames = ['objective']\n"
        "[rankers.options.objective]\nmargin = 0.7\n",
    )
    assert main(["check", str(p)]) == 2
    err = capsys.readouterr().err
    assert "rankers.options.objective: relevance (1) + margin (0.7) = 1.7: must sum to 1" in err
    p.write_text(p.read_text() + "relevance = 0.3\n")
    assert main(["check", str(p)]) == 0


@pytest.mark.parametrize(
    ("ranker", "option", "value", "message"),
    [
        ("random", "half_life_days", '""', "rankers.options.random: half_life_days = '': must be a finite number > 0"),
        ("random", "half_life_days", "0.0", "rankers.options.random: half_life_days = 0.0: must be a finite"),
        ("popularity", "history_slots", "2.5", "rankers.options.popularity: history_slots = 2.5: must be a whole"),
        ("buy_again", "history_slots", "true", "rankers.options.buy_again: history_slots = True: must be a whole"),
    ],
)
def test_bad_ranker_option_values_are_refused_before_any_world(ranker, option, value, message, tmp_path, capsys):
    """Found by the property test: option values reached the ranker's feature store mid-run (a TypeError)."""
    p = _broken(tmp_path, f"days = 30\n[run]\nhorizons = [7, 30]\n[rankers.options.{ranker}]\n{option} = {value}\n")
    assert main(["check", str(p)]) == 2
    assert main(["run", str(p), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(message in line for line in err), err
    assert not (tmp_path / "run").exists() and not (tmp_path / "run.partial").exists()
