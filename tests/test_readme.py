"""The README's example runs and its two commands are the ones CI uses."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_python_example_runs():
    pytest.importorskip("torch")
    (code,) = re.findall(r"```python\n(.*?)```", README, re.S)
    exec(compile(code, "README.md", "exec"), {})


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```bash\n(.*?)\n```", README, re.S)
    assert commands[0] == 'python -m pip install -e ".[test]" && attnreg verify'
    assert commands[1] in (ROOT / ".ci" / "run").read_text().splitlines()


def test_claim_file_example_is_valid_vocabulary():
    from attnreg.verify.claims import claimfile

    (toml,) = re.findall(r"```toml\n(.*?)```", README, re.S)
    (claim,) = claimfile.loads(toml, "README.md")
    assert claim.id == "softmax-lip-x" and claim.provenance == "recalled"
