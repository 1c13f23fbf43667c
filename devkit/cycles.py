"""`make check`: no import cycle among our modules.

A cycle means no module in it can be read, tested or loaded without the others; the one the
service locator made (handlers -> bootstrap -> registry -> handlers) tied ten files together.
Imports inside functions count (they run on a Lambda just the same); imports only for type
checking do not. Exits 1 naming each cycle's modules.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping

PACKAGES = ("chalicelib", "devkit", "flowlang")


def import_graph(packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    import grimp

    first, *rest = packages
    graph = grimp.build_graph(first, *rest, exclude_type_checking_imports=True, cache_dir=None)
    return {
        module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules
    }


def reachable(graph: Mapping[str, set[str]], start: str) -> set[str]:
    """Every module `start` imports, directly or not (itself only through a cycle)."""
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    return seen


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Each set of modules that all import one another, directly or not, sorted."""
    reach = {module: reachable(graph, module) for module in graph}
    found = {
        frozenset(other for other in reach[module] if module in reach[other])
        for module in graph
        if module in reach[module]
    }
    return sorted(sorted(cycle) for cycle in found)


def main() -> int:
    found = cycles(import_graph())
    for cycle in found:
        print(f"import cycle of {len(cycle)} modules: {', '.join(cycle)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
