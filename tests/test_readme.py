"""The README's Python example runs as written (documented examples are tested)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README should show the Python API"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    assert "ltv_30d" in capsys.readouterr().out


def test_readme_names_the_two_setup_commands_and_ci_runs_the_test_one():
    text = README.read_text()
    assert "make run" in text and "make test" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert "make test" in ci


def test_environments_doc_training_example_runs(capsys):
    doc = README.parent / "docs" / "ENVIRONMENTS.md"
    (code,) = re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)
    exec(compile(code, "ENVIRONMENTS.md", "exec"), {})
    assert "best objective [relevance, margin, ad_load, exploration]:" in capsys.readouterr().out


def test_learned_rankers_doc_example_runs(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # it saves a model under ./models
    doc = README.parent / "docs" / "LEARNED_RANKERS.md"
    (code,) = re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)
    exec(compile(code, "LEARNED_RANKERS.md", "exec"), {})
    out = capsys.readouterr().out
    assert "P(purchase):" in out and "gates:" in out
    assert (tmp_path / "models/smoke-mmoe/model.json").is_file()
