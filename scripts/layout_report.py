"""Layout figures for the tree: long modules and functions, upward imports, cycles, mirrored tests.

    python scripts/layout_report.py [--list]

Layers, lowest first (a module may import its own layer or lower ones):
shared rules (model, errors, config, i18n, ...) < geo < analysis < store < auth/accounts/audit/signin
< interventions, ingest, maps < export, report, demo < cli, ui, warmup.
"""
from __future__ import annotations

import argparse
import ast
import collections
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "minqing"
SHARED = {
    "minqing", "model", "errors", "config", "i18n", "citytime", "privacy", "privacy_patterns", "htmlsafe",
    "kernels", "profiling", "errlog", "cellsafe",
}
"""Layer 0: the shared rules every layer may use."""
RANK = {
    "geo": 1, "analysis": 2, "store": 3, "auth": 4, "accounts": 4, "audit": 4, "signin": 4, "oidc": 4,
    "interventions": 5, "ingest": 5, "maps": 5,
    "export": 6, "report": 6, "demo": 6,
    "cli": 7, "ui": 7, "warmup": 7,
    # where these lived before the move into packages (to measure an older tree)
    "iv_cli": 7, "accounts_cli": 7, "settings_cli": 7, "demo_build": 6,
    "export_writer": 6, "map_layers": 5, "basemaps": 5, "offline": 5,
}


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "minqing"


def imports(path: pathlib.Path, module: str, known: set[str]) -> set[str]:
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] + [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found.update(n for n in names if n in known and n != module)
    return found


def long_functions(path: pathlib.Path, limit: int) -> list[tuple[str, int]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > limit:
                out.append((node.name, length))
    return out


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (at any depth of the file, lazy imports included)."""
    files = sorted(SRC.rglob("*.py"))
    known = {module_name(p) for p in files}
    return {module_name(p): imports(p, module_name(p), known) for p in files}


def upward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, imported) pairs where a lower layer imports a higher one."""
    return [(m, t) for m, ts in graph.items() for t in ts if RANK.get(layer(t), 0) > RANK.get(layer(m), 0)]


def package_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of top-level packages/modules that import each other, directly or through others."""
    packages: dict[str, set[str]] = collections.defaultdict(set)
    for m, ts in graph.items():
        for t in ts:
            if layer(t) != layer(m):
                packages[layer(m)].add(layer(t))
    return strongly_connected(packages)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", action="store_true", help="name every finding")
    args = parser.parse_args()
    files = sorted(p for p in SRC.rglob("*.py"))
    graph = import_graph()
    big = [(module_name(p), len(p.read_text().splitlines())) for p in files]
    over400 = [(m, n) for m, n in big if n > 400]
    over500 = [(m, n) for m, n in big if n > 500]
    fn60 = [(module_name(p), f, n) for p in files for f, n in long_functions(p, 60)]
    fn80 = [(m, f, n) for m, f, n in fn60 if n > 80 and ".demo" not in m]
    upward = upward_imports(graph)
    cycles = package_cycles(graph)
    tests = ROOT / "tests"
    modules = [p for p in files if p.name != "__init__.py"]
    mirrored = [
        p for p in modules
        if (tests / p.relative_to(SRC).parent / f"test_{p.name}").exists()
    ]
    rows = [
        ("modules", len(modules)),
        ("modules over 400 lines", len(over400)),
        ("modules over 500 lines", len(over500)),
        ("functions over 60 lines", len(fn60)),
        ("functions over 80 lines outside demo/", len(fn80)),
        ("upward imports", len(upward)),
        ("package cycles", len(cycles)),
        ("modules with a mirrored test", len(mirrored)),
    ]
    for name, value in rows:
        print(f"{name:40s} {value}")
    if args.list:
        for m, n in over400:
            print(f"  long module   {m} {n}")
        for m, f, n in fn60:
            print(f"  long function {m}.{f} {n}")
        for m, t in upward:
            print(f"  upward        {m} -> {t}")
        for c in cycles:
            print(f"  cycle         {' <-> '.join(c)}")


if __name__ == "__main__":
    main()
