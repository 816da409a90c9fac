"""A visiting route: nearest neighbour from the start, then 2-opt until no swap shortens it.
Distances are great-circle (haversine) in kilometres; the route is open (it does not return)."""

from __future__ import annotations

import math
from collections.abc import Sequence

EARTH_RADIUS_KM = 6371.0088


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lng1 = map(math.radians, a)
    lat2, lng2 = map(math.radians, b)
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def path_length(
    points: Sequence[tuple[float, float]], order: Sequence[int], start: tuple[float, float] | None
) -> float:
    stops = ([start] if start is not None else []) + [points[i] for i in order]
    return sum(haversine_km(stops[i], stops[i + 1]) for i in range(len(stops) - 1))


def plan_route(
    points: Sequence[tuple[float, float]], *, start: tuple[float, float] | None = None
) -> tuple[list[int], float]:
    """The visiting order (indices into `points`) and its length in km. Without a start, the route
    starts at the stop that gives the shortest nearest-neighbour tour."""
    n = len(points)
    if n == 0:
        return [], 0.0
    if n == 1:
        return [0], path_length(points, [0], start)
    starts = [None] if start is not None else list(range(n))
    best: tuple[list[int], float] | None = None
    for first in starts:
        order = _nearest_neighbour(points, start, first)
        order = _two_opt(points, order, start)
        length = path_length(points, order, start)
        if best is None or length < best[1] - 1e-9:
            best = (order, length)
    assert best is not None
    return best


def _nearest_neighbour(
    points: Sequence[tuple[float, float]], start: tuple[float, float] | None, first: int | None
) -> list[int]:
    left = set(range(len(points)))
    order: list[int] = []
    here = start
    if first is not None:
        order.append(first)
        left.discard(first)
        here = points[first]
    while left:
        at = here if here is not None else points[min(left)]
        nxt = min(left, key=lambda i: (haversine_km(at, points[i]), i))
        order.append(nxt)
        left.discard(nxt)
        here = points[nxt]
    return order


def _two_opt(
    points: Sequence[tuple[float, float]], order: list[int], start: tuple[float, float] | None
) -> list[int]:
    """Reverse a segment whenever that shortens the open path; repeat until no reversal helps."""
    best = order[:]
    best_len = path_length(points, best, start)
    improved = True
    while improved:
        improved = False
        for i in range(len(best) - 1):
            for j in range(i + 1, len(best)):
                candidate = best[:i] + best[i : j + 1][::-1] + best[j + 1 :]
                length = path_length(points, candidate, start)
                if length < best_len - 1e-9:
                    best, best_len, improved = candidate, length, True
    return best
