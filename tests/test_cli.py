"""The console demo and the README's examples, end to end."""

import io
import re
from pathlib import Path

import pytest

from radonsolve.cli import main, run_demo

README = Path(__file__).resolve().parents[1] / "README.md"


def test_demo_table(tmp_path):
    out = io.StringIO()
    png = tmp_path / "fit.png"
    rows = run_demo(plot=str(png), out=out)
    text = out.getvalue()
    assert len(rows) == 3
    assert text.count("\n| ") >= 3
    for r in rows:
        assert r["neurons"] <= r["N"] - (r["d"] + 1)
        assert r["gap"] >= -1e-12
        assert r["r2_train"] > 0.5
    assert rows[0]["r2_test"] > 0.9  # the 1D truth is recovered
    # 1-D and 2-D fits carry an exact certificate that holds; diabetes a searched one
    assert rows[0]["certified"] and rows[1]["certified"]
    assert "(certified)" in text and "(searched)" in text
    # warnings are reported under the table, not raised at the user
    for r in rows:
        for n in r["notes"]:
            assert f"- {r['data']}: {n}" in text
    pytest.importorskip("matplotlib")
    assert png.exists() and png.stat().st_size > 1000


def test_cli_help_returns_nonzero(capsys):
    assert main([]) == 2


def test_readme_python_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})


def test_readme_commands_match_ci():
    text = README.read_text()
    cmds = re.findall(r"```bash\n(.*?)\n```", text, flags=re.S)
    assert "radonsolve demo" in cmds[0]
    ci = (README.parent / ".ci" / "run").read_text()
    assert cmds[1].strip() in ci
