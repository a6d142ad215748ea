"""The layering, read from the source (no I/O but reading files): core knows no domain; a domain
reaches another only through that domain's `api.py`; no two domains reach each other, counting
the imports inside function bodies (an import there to dodge a cycle is still a cycle); each
collection has one owner module; the registry is imported only by the composition roots; and
every port is plugged in wherever its domain runs.

Exempt: app.py, each domain's `handler.py` and `functions/registry.py` (the composition roots
wire domains together), and tests/, bench/, local/, infra/ (not under functions/). Imports under
`if __name__ == "__main__":` are a command line's, not the module's.

The allowlists below name what is still allowed to break a rule, for the domain engineers to
empty; a test fails as soon as an entry is no longer needed, so the lists only shrink.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from infra.iam import import_statements

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
REGISTRY = "functions.registry"

# Cycles between packages of functions/ (each a set of packages) still allowed.
CYCLES_ALLOWED: set[frozenset[str]] = set()
# (importing module, imported module) pairs that reach another domain other than through its api.
SEAM_VIOLATIONS_ALLOWED: set[tuple[str, str]] = set()
# Collections still used (get_db()[NAME]) by more than their owner: collection -> every module using it.
SHARED_COLLECTIONS_ALLOWED: dict[str, set[str]] = {}
# Modules of functions/ other than the composition roots that may import the registry: the
# operator's command line (it ensures the indexes before creating an admin).
REGISTRY_IMPORTERS = {"functions.auth.admin"}


# ---------------------------------------------------------------- reading the source


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(FUNCTIONS.rglob("*.py"))}


@cache
def _tree(module: str) -> ast.Module:
    return ast.parse(_modules()[module].read_text())


def _is_main_guard(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return (isinstance(node, ast.If) and isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node, function bodies included, except what runs only as a command line."""
    for child in ast.iter_child_nodes(node):
        if _is_main_guard(child):
            continue
        yield child
        yield from _walk(child)


def _package_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _imports(module: str) -> set[str]:
    """The modules of functions/ that `module` imports anywhere (a name imported from a package
    counts as the package, unless it is a module of that package)."""
    modules = _modules()
    package = module if _modules()[module].name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for base, names in import_statements(_walk(_tree(module)), package):
        found.update([f"{base}.{name}" if f"{base}.{name}" in modules else base for name in names] or [base])
    return {name for name in found if name in modules and name != "functions"}


def _exempt(module: str) -> bool:
    return module == REGISTRY or module.endswith(".handler")


def _domain(module: str) -> str | None:
    """The package of functions/ a module belongs to (`core` is one), or None (the registry)."""
    parts = module.split(".")
    return parts[1] if len(parts) >= 2 and (FUNCTIONS / parts[1]).is_dir() else None


def _edges() -> Iterator[tuple[str, str]]:
    """(importer, imported) across two packages of functions/, composition roots left out."""
    for module in _modules():
        if _exempt(module) or _domain(module) is None:
            continue
        for target in _imports(module):
            if _domain(target) is not None and _domain(target) != _domain(module):
                yield module, target


# ---------------------------------------------------------------- 1. no cycle between packages


def _cycles() -> set[frozenset[str]]:
    graph: dict[str, set[str]] = {}
    for importer, target in _edges():
        graph.setdefault(_package_of(importer), set()).add(_package_of(target))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: set[frozenset[str]] = set()

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_two_packages_of_functions_import_each_other():
    # Given every import between packages of functions/, those inside function bodies included
    # When the strongly connected components of that graph are read
    cycles = _cycles()
    # Then none is left but those allowed (each listed with the packages it joins)
    assert cycles - CYCLES_ALLOWED == set(), [sorted(c) for c in cycles - CYCLES_ALLOWED]


def test_every_allowed_cycle_is_still_there():
    assert CYCLES_ALLOWED - _cycles() == set(), "no longer a cycle: remove it from CYCLES_ALLOWED"


# ---------------------------------------------------------------- 2. seams only


def _seam_violations() -> set[tuple[str, str]]:
    found = set()
    for importer, target in _edges():
        if _domain(importer) == "core" or (_domain(target) != "core" and target != f"{_package_of(target)}.api"):
            found.add((importer, target))
    return found


def test_a_domain_reaches_another_only_through_its_api_and_core_reaches_none():
    # Given every import from one package of functions/ into another
    # When the imported module is anything but the other domain's `api` (or the importer is core)
    violations = _seam_violations() - SEAM_VIOLATIONS_ALLOWED
    # Then there is none
    assert violations == set(), sorted(violations)


def test_every_allowed_seam_violation_is_still_there():
    assert SEAM_VIOLATIONS_ALLOWED - _seam_violations() == set(), "fixed: remove it from SEAM_VIOLATIONS_ALLOWED"


def test_the_rules_see_imports_inside_function_bodies():
    # Given the appointments seam, whose functions import the store only when called
    # Then the import inside the body is read like one at the top of the module
    assert "functions.appointments.stores.appointments" in _imports("functions.appointments.api")


# ---------------------------------------------------------------- 3. one owner per collection


def _string_constants(module: str) -> dict[str, str]:
    """Module-level names bound to a string (`USERS = "users"`, `A, B = "a", "b"`)."""
    found: dict[str, str] = {}
    for node in _tree(module).body:
        if not isinstance(node, ast.Assign | ast.AnnAssign):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                found[target.id] = node.value.value
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                for name, value in zip(target.elts, node.value.elts, strict=False):
                    if isinstance(name, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str):
                        found[name.id] = value.value
    return found


def _is_database(node: ast.AST) -> bool:
    """`get_db()`, a database passed in (`db`, as migrations get it), or a choice between them."""
    if isinstance(node, ast.Call):
        return getattr(node.func, "id", getattr(node.func, "attr", None)) == "get_db"
    if isinstance(node, ast.Name):
        return node.id == "db"
    if isinstance(node, ast.IfExp):
        return _is_database(node.body) or _is_database(node.orelse)
    return False


def _collection_uses(module: str) -> tuple[set[str], bool]:
    """The collections `module` issues commands to, by name; and whether it also picks one by a
    computed name (`get_db()[collection]`)."""
    constants = _string_constants(module)
    named: set[str] = set()
    computed = False
    for node in _walk(_tree(module)):
        key: ast.AST | None = None
        if isinstance(node, ast.Subscript) and _is_database(node.value):
            key = node.slice
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) \
                == "get_collection" and node.args:
            key = node.args[0]
        if key is None:
            continue
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            named.add(key.value)
        elif isinstance(key, ast.Name) and key.id in constants:
            named.add(constants[key.id])
        else:
            computed = True
    return named, computed


def _users_of_collections() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for module in _modules():
        for collection in _collection_uses(module)[0]:
            found.setdefault(collection, set()).add(module)
    return found


def test_each_collection_is_used_by_its_owner_only():
    # Given every `get_db()[NAME]` (or `db[NAME]`, `get_collection(NAME)`) in functions/
    users = _users_of_collections()
    # When a collection is named by more than one module
    shared = {c: sorted(m) for c, m in users.items() if len(m) > 1 and SHARED_COLLECTIONS_ALLOWED.get(c) != m}
    # Then there is none: everyone else calls the owner's functions
    assert shared == {}, shared
    assert users["users"] == {"functions.core.users"}


def test_every_allowed_shared_collection_is_still_shared():
    users = _users_of_collections()
    assert {c: m for c, m in SHARED_COLLECTIONS_ALLOWED.items() if users.get(c) != m} == {}


def test_a_collection_is_picked_by_a_computed_name_only_by_a_store_or_a_core_mechanism():
    # Given the modules that index the database with a computed name (a helper given its collection)
    computed = {m for m in _modules() if _collection_uses(m)[1]}
    # Then each is core (a mechanism acting on its caller's collection) or owns collections itself
    assert {m for m in computed if not m.startswith("functions.core.") and not _collection_uses(m)[0]} == set()


def test_response_keys_that_spell_a_collection_are_not_uses():
    # Given modules that answer `users` and `doctors` keys (the admin and directory routes)
    sources = {m: _modules()[m].read_text() for m in ("functions.auth.routes_admin", "functions.auth.routes_directory")}
    assert "users=users" in sources["functions.auth.routes_admin"]
    assert "doctors=items" in sources["functions.auth.routes_directory"]
    # Then they issue no command to any collection
    assert {m: _collection_uses(m) for m in sources} == dict.fromkeys(sources, (set(), False))


# ---------------------------------------------------------------- the composition roots


def test_only_the_composition_roots_import_the_registry():
    # Given the modules of functions/ that import the registry (handlers included)
    importers = {m for m in _modules() if m != REGISTRY and REGISTRY in _imports(m)}
    # Then none but the operator's command line: core is handed the registry's lists, and a route's
    # Lambda importing it would carry every domain's code, layers and grants
    assert importers == REGISTRY_IMPORTERS


_UNPLUGGED = """
import importlib, pkgutil, sys
import {entry}
import functions
from functions.core.ports import Port
for info in pkgutil.iter_modules(functions.__path__):
    if info.ispkg and importlib.util.find_spec(f"functions.{{info.name}}.api"):
        api = importlib.import_module(f"functions.{{info.name}}.api")
        for value in vars(api).values():
            if isinstance(value, Port) and not value.plugged:
                print(value.name)
"""


def _unplugged(entry: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", _UNPLUGGED.format(entry=entry)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False,
                          env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"})
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_every_port_is_plugged_in_wherever_its_domain_runs():
    # Given the whole app, and the Lambda of each domain that declares a port
    owners = {p.parent.name for p in FUNCTIONS.glob("*/api.py") if "Port(" in p.read_text()}
    assert owners >= {"appointments", "pharmacy"}
    # When each starts (a fresh interpreter, as in Lambda)
    # Then no port of the app is left unplugged, nor any port of the domain its handler serves
    assert _unplugged("app") == set()
    for domain in sorted(owners):
        assert {p for p in _unplugged(f"functions.{domain}.handler") if p.startswith(f"{domain}.")} == set(), domain
