"""The offline base map: for every city the bank serves, an outline, ring roads, arterial roads and
a river, generated deterministically from the city centres in server/reference.py. No third-party
tiles are needed; a bank that wants real tiles sets PROSPECT_TILE_URL (天地图, 高德 ...)."""

from __future__ import annotations

import functools
import math
import random
from typing import Any

from server.reference import REGIONS


def _ring(
    lat: float, lng: float, radius: float, rng: random.Random, wobble: float, points: int = 48
) -> list[list[float]]:
    scale = 1 / max(math.cos(math.radians(lat)), 0.2)
    phases = [rng.uniform(0, 2 * math.pi) for _ in range(3)]
    ring = []
    for k in range(points):
        t = 2 * math.pi * k / points
        r = radius * (1 + wobble * sum(math.sin((j + 2) * t + phases[j]) / (j + 2) for j in range(3)))
        ring.append([round(lng + r * scale * math.cos(t), 5), round(lat + r * math.sin(t), 5)])
    ring.append(ring[0])
    return ring


@functools.cache
def base_map() -> dict[str, Any]:
    features: list[dict[str, Any]] = []
    for code, city in REGIONS.items():
        rng = random.Random(int(code))
        lat, lng = city["lat"], city["lng"]
        scale = 1 / max(math.cos(math.radians(lat)), 0.2)
        features.append(
            {
                "type": "Feature",
                "properties": {"kind": "boundary", "name": city["name"], "code": code},
                "geometry": {"type": "Polygon", "coordinates": [_ring(lat, lng, 0.32, rng, 0.35, 72)]},
            }
        )
        for k, radius in enumerate((0.05, 0.11, 0.19)):
            features.append(
                {
                    "type": "Feature",
                    "properties": {"kind": "ring_road", "name": f"{city['name']}{'内中外'[k]}环"},
                    "geometry": {"type": "LineString", "coordinates": _ring(lat, lng, radius, rng, 0.08)},
                }
            )
        for k in range(8):
            angle = math.pi * k / 4 + rng.uniform(-0.15, 0.15)
            line = []
            for step in range(13):
                r = 0.025 * step
                bend = 0.01 * math.sin(step + k)
                line.append(
                    [
                        round(lng + (r * math.cos(angle) - bend * math.sin(angle)) * scale, 5),
                        round(lat + r * math.sin(angle) + bend * math.cos(angle), 5),
                    ]
                )
            features.append(
                {
                    "type": "Feature",
                    "properties": {"kind": "road"},
                    "geometry": {"type": "LineString", "coordinates": line},
                }
            )
        tilt = rng.uniform(0, math.pi)
        river = [
            [
                round(lng + (t * math.cos(tilt) + 0.02 * math.sin(8 * t)) * scale, 5),
                round(lat + t * math.sin(tilt) + 0.02 * math.cos(6 * t), 5),
            ]
            for t in [i / 20 * 0.6 - 0.3 for i in range(21)]
        ]
        features.append(
            {
                "type": "Feature",
                "properties": {"kind": "river"},
                "geometry": {"type": "LineString", "coordinates": river},
            }
        )
        features.append(
            {
                "type": "Feature",
                "properties": {"kind": "label", "name": city["name"]},
                "geometry": {"type": "Point", "coordinates": [lng, lat]},
            }
        )
    return {"type": "FeatureCollection", "features": features}
