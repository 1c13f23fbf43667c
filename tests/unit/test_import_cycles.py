"""No import cycle in chalicelib/, devkit/ or flowlang/ (`make check` runs the same)."""

from __future__ import annotations

from devkit.cycles import cycles, import_graph


def test_a_cycle_is_found_with_every_module_in_it_and_nothing_else() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"], ["e"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_our_packages_have_no_import_cycle() -> None:
    graph = import_graph()
    assert "chalicelib.composition" in graph  # the graph is ours, not an empty one
    assert cycles(graph) == []
