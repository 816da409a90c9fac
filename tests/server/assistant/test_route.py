"""The visiting route on hand-made coordinates."""

from __future__ import annotations

import itertools

import pytest

from server.assistant.route import haversine_km, path_length, plan_route


def test_haversine_one_degree_of_latitude():
    assert haversine_km((31.0, 121.0), (32.0, 121.0)) == pytest.approx(111.2, abs=0.2)


def test_points_on_a_line_are_visited_in_order_from_the_start():
    # Five stops due north of the branch, given shuffled.
    lats = [31.04, 31.01, 31.05, 31.02, 31.03]
    points = [(lat, 121.0) for lat in lats]
    order, length = plan_route(points, start=(31.0, 121.0))
    assert [lats[i] for i in order] == [31.01, 31.02, 31.03, 31.04, 31.05]
    assert length == pytest.approx(haversine_km((31.0, 121.0), (31.05, 121.0)), rel=1e-6)


def test_two_opt_removes_the_crossing_nearest_neighbour_leaves():
    # Nearest neighbour from the start goes A (close), then greedily C, and must come back across:
    # the best open route is found by 2-opt and equals the brute-force optimum.
    start = (0.0, 0.0)
    points = [(0.0, 0.01), (0.0, 0.03), (0.01, 0.02), (0.01, 0.0), (0.012, 0.035)]
    order, length = plan_route(points, start=start)
    best = min(path_length(points, list(p), start) for p in itertools.permutations(range(len(points))))
    assert length == pytest.approx(best, rel=1e-6)
    assert sorted(order) == list(range(len(points)))


def test_without_a_start_the_route_is_an_optimal_open_path_on_a_small_case():
    points = [(31.2, 121.4), (31.25, 121.5), (31.21, 121.45), (31.3, 121.6), (31.22, 121.41)]
    order, length = plan_route(points)
    best = min(path_length(points, list(p), None) for p in itertools.permutations(range(len(points))))
    assert length == pytest.approx(best, rel=1e-6)


def test_empty_and_single():
    assert plan_route([], start=(0.0, 0.0)) == ([], 0.0)
    order, length = plan_route([(31.1, 121.0)], start=(31.0, 121.0))
    assert order == [0] and length == pytest.approx(11.1, abs=0.1)
