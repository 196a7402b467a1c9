"""CI runs the README's commands verbatim (issue 9): `.ci/run` reads README.md's first ```bash block at
run time; here its parse (``.ci/run --dry-run``) is compared with an independent one, and the script is
checked to run those lines before anything else touches the main environment. Cheap: nothing installs."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / ".ci" / "run"


def readme_first_bash_block(text: str) -> list[str]:
    m = re.search(r"^```bash[ \t]*\n(.*?)^```", text, flags=re.S | re.M)
    assert m, "README.md has no ```bash block"
    return [ln for ln in m.group(1).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def test_readme_block_holds_install_plan_and_the_test_command():
    cmds = readme_first_bash_block((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(cmds) == 2, cmds
    assert "pip install -e '.[test]'" in cmds[0] and cmds[0].endswith("bliss plan")
    assert cmds[1] == ".venv/bin/python -m pytest"


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("awk") is None, reason="needs bash and awk")
def test_ci_runs_exactly_the_readme_lines():
    expected = readme_first_bash_block((ROOT / "README.md").read_text(encoding="utf-8"))
    proc = subprocess.run(["bash", str(CI), "--dry-run"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == expected
    script = CI.read_text(encoding="utf-8")
    # every parsed line runs, under errexit, and nothing else creates or installs into .venv before it
    run_loop = script.index('for cmd in "${README_COMMANDS[@]}"; do')
    assert 'bash -euo pipefail -c "$cmd"' in script[run_loop:]
    assert "set -euo pipefail" in script[:script.index("readme_commands()")]
    assert ".venv/bin" not in script[:run_loop] and "-m venv .venv\n" not in script[:run_loop]


def test_dry_run_parse_follows_the_readme(tmp_path):
    """The parse is live: a changed README block is what --dry-run prints (a copy of .ci/run in a temp
    tree with a different README)."""
    if shutil.which("bash") is None or shutil.which("awk") is None:
        pytest.skip("needs bash and awk")
    (tmp_path / ".ci").mkdir()
    shutil.copy(CI, tmp_path / ".ci" / "run")
    (tmp_path / "README.md").write_text("# x\n\n```python\nnot this\n```\n\n```bash\necho one\n\n# a comment\n"
                                        "echo two\n```\n\n```bash\necho three\n```\n", encoding="utf-8")
    proc = subprocess.run(["bash", str(tmp_path / ".ci" / "run"), "--dry-run"], capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["echo one", "echo two"]
