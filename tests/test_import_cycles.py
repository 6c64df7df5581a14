"""No import cycles in server/, counting imports inside functions too: an import moved into a
function to dodge a cycle still makes the two modules one tangle a newcomer cannot read apart, and
breaks as soon as the order modules load in changes. grimp (import-linter's graph) sees them all."""

from __future__ import annotations

import grimp


def cycles(graph: grimp.ImportGraph) -> list[str]:
    """Each import a -> b such that b reaches a again, as 'a -> b -> ... -> a' (shortest way back)."""
    found = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                lines = [str(d["line_number"]) for d in graph.get_import_details(importer=importer, imported=imported)]
                found.append(f"{importer} (line {', '.join(lines)}) -> " + " -> ".join(back))
    return found


def test_server_has_no_import_cycles() -> None:
    assert cycles(grimp.build_graph("server", cache_dir=None)) == []


def test_the_check_finds_a_cycle_through_a_function_level_import() -> None:
    graph = grimp.ImportGraph()
    for name in ("p.nodes", "p.parser", "p.functions", "p.lexer"):
        graph.add_module(name)
    graph.add_import(importer="p.parser", imported="p.functions", line_number=13, line_contents="from ...")
    graph.add_import(importer="p.parser", imported="p.lexer", line_number=14, line_contents="from ...")
    graph.add_import(importer="p.functions", imported="p.nodes", line_number=12, line_contents="from ...")
    graph.add_import(importer="p.nodes", imported="p.parser", line_number=88, line_contents="    from ...")
    assert cycles(graph) == [
        "p.functions (line 12) -> p.nodes -> p.parser -> p.functions",
        "p.nodes (line 88) -> p.parser -> p.functions -> p.nodes",
        "p.parser (line 13) -> p.functions -> p.nodes -> p.parser",
    ]
