"""The generic DAG: dependency order and cycles printed as a person reads them."""

from __future__ import annotations

import pytest

from segment_pipeline.definitions.graph import DAG, CycleError


def _graph(edges: dict[str, list[str]]) -> DAG[str]:
    graph: DAG[str] = DAG()
    for node, upstream in edges.items():
        graph.add(node, upstream)
    return graph


def test_dependencies_come_first_ties_keep_insertion_order():
    graph = _graph({"d": ["b", "c"], "a": [], "b": ["a"], "c": ["a"], "e": []})
    assert graph.sorted() == ["a", "b", "c", "d", "e"]


def test_edges_to_unknown_nodes_are_ignored():
    graph = _graph({"a": ["nowhere"]})
    assert graph.sorted() == ["a"]
    assert graph.upstream("a") == []


@pytest.mark.parametrize(
    ("edges", "cycles"),
    [
        ({"a": ["a"]}, [["a", "a"]]),
        ({"a": ["b"], "b": ["a"]}, [["a", "b", "a"]]),
        ({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}, [["a", "b", "c", "a"]]),
        ({"a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"]}, [["a", "b", "a"], ["c", "d", "c"]]),
        ({"a": ["b"], "b": []}, []),
    ],
)
def test_cycles(edges: dict[str, list[str]], cycles: list[list[str]]):
    assert _graph(edges).cycles() == cycles


def test_sorting_a_cycle_raises_with_the_cycle():
    with pytest.raises(CycleError, match=r"^cycle: a -> b -> a$") as raised:
        _graph({"a": ["b"], "b": ["a"]}).sorted()
    assert raised.value.cycle == ["a", "b", "a"]
