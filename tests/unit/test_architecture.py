"""The house rules import-linter cannot see (issue 13, rules 3 and 5, module size), read from the AST.

Each ALLOWED_* list is a baseline of the exceptions left, to burn down: fixing one makes its entry
stale and the matching *_is_current test fails until the entry is removed, so the lists only shrink.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("moderation", "worker", "config")
MAX_TOP_LEVEL_ENTRIES = 16
MAX_MODULE_LINES = 250
# Worth deferring: slow to import and needed by one provider, extra or option only (the model, PyAV, pdqhash;
# matplotlib, ~0.4 s on every `modq` start, for --plot alone).
HEAVY_OPTIONAL = {"nudenet", "onnxruntime", "av", "pdqhash", "matplotlib"}
HEAVY_COMMENT = "heavy"

# "module:function -> imported": function-local imports that defer no heavy dependency.
ALLOWED_LOCAL_IMPORTS: set[str] = set()
# Modules over MAX_MODULE_LINES.
ALLOWED_LONG_MODULES: set[str] = set()
# Modules that load a worker module by name.
ALLOWED_WORKER_LOOKUPS: set[str] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, tuple[Path, ast.Module]]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            found[_module_name(path)] = (path, ast.parse(path.read_text(), str(path)))
    return found


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.endswith("__")


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = _modules()[module][0].name == "__init__.py"
    base = module.split(".")[: len(module.split(".")) - node.level + is_package]
    return ".".join(base + ([node.module] if node.module else []))


def _is_ours(dotted: str) -> bool:
    return dotted.split(".")[0] in PACKAGES


def _imported_names(module: str, tree: ast.Module) -> dict[str, str]:
    """Local name -> the dotted name it was imported as, for imports of our own packages."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    names[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for alias in node.names:
                names[alias.asname or alias.name] = f"{source}.{alias.name}"
    return {local: dotted for local, dotted in names.items() if _is_ours(dotted)}


def _dotted(node: ast.expr, names: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _dotted(node.value, names)
        return owner and f"{owner}.{node.attr}"
    return None


def private_uses(module: str, tree: ast.Module) -> set[str]:
    """Every "owner:_name" that `module` takes from another module of ours."""
    uses = set()
    names = _imported_names(module, tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _is_ours(_absolute(module, node)):
            uses |= {f"{_absolute(module, node)}:{a.name}" for a in node.names if _is_private(a.name)}
        elif isinstance(node, ast.Attribute) and _is_private(node.attr):
            owner = _dotted(node.value, names)
            if owner:
                uses.add(f"{owner}:{node.attr}")
    return uses


def _all_private_uses() -> set[str]:
    return {f"{m} -> {use}" for m, (_, tree) in _modules().items() for use in private_uses(m, tree)}


def test_no_private_name_crosses_a_module_boundary():
    """Each "user -> owner:_name" found: a private name used outside the module that owns it."""
    assert _all_private_uses() == set(), "use a public name; a private one stays home (rule 3)"


def _local_imports(tree: ast.AST, function: str = "", prefix: str = ""):
    """(innermost enclosing function's qualified name, import node) for every import inside a function."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and function:
            yield function, node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _local_imports(node, f"{prefix}{node.name}", f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _local_imports(node, function, f"{prefix}{node.name}.")
        else:
            yield from _local_imports(node, function, prefix)


def _imported_module(source: str, name: str) -> str:
    """`from a.b import c` imports the module a.b.c when there is one, else a name of a.b."""
    return f"{source}.{name}" if f"{source}.{name}" in _modules() else source


def _imports(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [_imported_module(_absolute(module, node), alias.name) for alias in node.names]


def _module_level_imports(module: str, tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update(_imports(module, node))
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            found |= _module_level_imports(module, node)
    return found


@cache
def _heavy_modules() -> frozenset[str]:
    """Heavy optional packages, and our modules that import one at module level (directly or not)."""
    heavy = set(HEAVY_OPTIONAL)
    reaches = {m: {t for t in _module_level_imports(m, tree)} for m, (_, tree) in _modules().items()}
    while grown := {m for m, targets in reaches.items() if m not in heavy and _any_heavy(targets, heavy)}:
        heavy |= grown
    return frozenset(heavy)


def _any_heavy(targets: set[str], heavy: set[str]) -> bool:
    return any(t in heavy or t.split(".")[0] in HEAVY_OPTIONAL for t in targets)


def local_imports(module: str, path: Path, tree: ast.Module) -> dict[str, bool]:
    """"module:function -> imported" -> whether it defers a heavy dependency and its line says so."""
    lines = path.read_text().splitlines()
    found = {}
    for function, node in _local_imports(tree):
        said = HEAVY_COMMENT in lines[node.end_lineno - 1].partition("#")[2].lower()
        for target in _imports(module, node):
            found[f"{module}:{function} -> {target}"] = said and _any_heavy({target}, _heavy_modules())
    return found


def _light_local_imports() -> set[str]:
    found = {}
    for module, (path, tree) in _modules().items():
        found |= local_imports(module, path, tree)
    return {key for key, heavy in found.items() if not heavy}


def test_function_local_imports_only_defer_heavy_dependencies():
    assert _light_local_imports() - ALLOWED_LOCAL_IMPORTS == set(), (
        "import at module level (rule 5); only a heavy optional dependency stays in a function, "
        f"with a comment on its line saying it is {HEAVY_COMMENT}"
    )


def test_local_import_allow_list_is_current():
    assert ALLOWED_LOCAL_IMPORTS - _light_local_imports() == set(), "fixed: remove these from ALLOWED_LOCAL_IMPORTS"


def top_level_entries(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name != "__pycache__" and not p.name.startswith("."))


def long_modules() -> set[str]:
    return {m for m, (path, _) in _modules().items() if len(path.read_text().splitlines()) > MAX_MODULE_LINES}


def test_moderation_has_few_top_level_entries():
    entries = top_level_entries(REPO / "moderation")
    assert len(entries) <= MAX_TOP_LEVEL_ENTRIES, f"a newcomer reads the package names first: {entries}"


def test_no_module_is_long():
    assert long_modules() - ALLOWED_LONG_MODULES == set(), f"split along a seam: at most {MAX_MODULE_LINES} lines"


def test_long_module_allow_list_is_current():
    assert ALLOWED_LONG_MODULES - long_modules() == set(), "now short: remove these from ALLOWED_LONG_MODULES"


def worker_lookups(tree: ast.Module) -> list[int]:
    """Lines that load a worker module by name, which hides the dependency from every static tool."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        first = node.args[0]
        named = isinstance(first, ast.Constant) and isinstance(first.value, str)
        if name in ("import_module", "__import__") and named and first.value.split(".")[0] == "worker":
            lines.append(node.lineno)
    return lines


def _modules_looking_worker_up() -> set[str]:
    return {m for m, (_, tree) in _modules().items() if worker_lookups(tree)}


def test_nothing_looks_worker_up_by_name():
    assert _modules_looking_worker_up() - ALLOWED_WORKER_LOOKUPS == set(), "an entry point hands the dispatcher in"


def test_worker_lookup_allow_list_is_current():
    assert ALLOWED_WORKER_LOOKUPS - _modules_looking_worker_up() == set(), "fixed: remove from ALLOWED_WORKER_LOOKUPS"
