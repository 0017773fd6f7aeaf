"""The package's modules import one another without cycles, and defer imports only for a reason.

The graph is read from the source (``ast``), not from ``sys.modules``, so a cycle hidden behind a
function-level import counts too: ``from . import x`` is an edge to ``x``; importing a name from a package's
``__init__`` is an edge to that package. The command-line modules are leaves (nothing imports them) and import
lazily by design (``attnreg/cli/__init__.py``), so they are left out.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"attnreg": "attnreg", "proofs": "attnreg.proofs", "reference": "attnreg.reference",
           "verify": "attnreg.verify"}


def modules() -> dict[str, Path]:
    found = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join([package, *parts])
            if not name.startswith("attnreg.cli"):
                found[name] = path
    return found


def edges(name: str, path: Path, known) -> tuple[set[str], list[ast.AST]]:
    """Modules imported anywhere in the file, and the import nodes found inside functions."""
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    targets, nested = set(), []
    tree = ast.parse(path.read_text())
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if id(node) not in top_level and not _guarded(tree, node):
            nested.append(node)
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names if a.name in known)
            continue
        base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else [])) \
            if node.level else node.module
        subs = {f"{base}.{a.name}" for a in node.names} & set(known)
        targets |= subs
        if base in known and len(subs) < len(node.names):
            targets.add(base)
    return targets - {name}, nested


def _guarded(tree, node) -> bool:
    """An import under a top-level ``if TYPE_CHECKING:`` or ``try:`` is still a module-level import."""
    return any(node in ast.walk(top) for top in tree.body if isinstance(top, ast.If | ast.Try))


def test_no_import_cycles():
    known = modules()
    graph = {name: edges(name, path, known)[0] for name, path in known.items()}
    cycles, seen, stack = [], set(), []

    def visit(node):
        if node in stack:
            cycles.append(stack[stack.index(node):] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for target in sorted(graph[node]):
            visit(target)
        stack.pop()

    for name in sorted(graph):
        visit(name)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_function_level_imports_say_why():
    """A function-level import defers a heavy or optional dependency and says which in a comment on its line
    (``# deferred: …``); any other import belongs at the top of the module."""
    known = modules()
    bare = []
    for name, path in known.items():
        lines = path.read_text().splitlines()
        for node in edges(name, path, known)[1]:
            if "# deferred:" not in lines[node.lineno - 1]:
                bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bare, "function-level imports without a '# deferred: <why>' comment:\n" + "\n".join(bare)
