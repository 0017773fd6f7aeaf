"""Every source package is listed in pyproject.toml (a missing one would vanish from the wheel), and the
layout rule of docs/design.md §3 holds: the production package does not import numpy in its generic code."""
import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_folder_is_listed():
    folders = {v: k for k, v in CONFIG["package-dir"].items()}
    found = set()
    for top, dotted in folders.items():
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top).parts
            found.add(".".join((dotted, *rel)))
    assert found == set(CONFIG["packages"]), f"pyproject packages differ: {found ^ set(CONFIG['packages'])}"


def _folder(package):
    prefix = max((p for p in CONFIG["package-dir"] if package == p or package.startswith(p + ".")), key=len)
    return ROOT / CONFIG["package-dir"][prefix] / Path(*package[len(prefix):].split(".")[1:])


def test_data_files_are_package_data():
    data = CONFIG.get("package-data", {})
    for package in CONFIG["packages"]:
        for f in _folder(package).iterdir():
            if f.is_file() and f.suffix not in (".py", ".pyc"):
                assert any(f.match(p) for p in data.get(package, [])), f"{f} is not package data"


def test_production_code_is_array_api_only():
    for path in (ROOT / "attnreg").glob("*.py"):
        tree = ast.parse(path.read_text())
        # The autograd bridge registers backward rules with torch / jax: it may import them, lazily (inside
        # functions, only when given their arrays), never at module level.
        nodes = tree.body if path.name == "_autograd.py" else list(ast.walk(tree))
        imported = {a.name.split(".")[0] for node in nodes if isinstance(node, ast.Import) for a in node.names}
        imported |= {node.module.split(".")[0] for node in nodes
                     if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
        assert not imported & {"numpy", "torch", "jax", "cupy", "mpmath", "sympy"}, f"{path.name} imports {imported}"
