"""Evaluating the rules: every rule's reading per RM, where it sits in the RM's peer group (robust
median and scale), which rules fire, and the combined risk score with its top reasons.

Peer group: same grade and branch type; a group smaller than `min_peers` widens to the grade, then
to the whole bank. Robust z = (value - peer median) / scale, with scale the larger of 1.4826·MAD,
(p75 - median)/0.6745 (groups of 20 or more) and the rule's `min_scale` (many behaviours are zero for most RMs, where a MAD
of zero would make any non-zero reading look infinite).

A rule fires when its reading reaches the rule's absolute floor `min`, its robust z reaches `z`, and
any extra gate holds. Each rule adds to the score weight·clip(z-2, 0, z_cap) and, when it fires,
weight·4 more; the sum S maps to 0..100 as 100·(1 - exp(-S/scale))."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from server.conduct.data import BankData
from server.conduct.rules.base import Reading, Rule
from server.conduct.rules.registry import RULES, SCORE_DEFAULTS


@dataclass
class RuleResult:
    rule: Rule
    params: dict[str, Any]
    reading: Reading
    median: np.ndarray
    scale: np.ndarray
    z: np.ndarray
    fired: np.ndarray
    points: np.ndarray


@dataclass
class Evaluation:
    data: BankData
    groups: np.ndarray
    results: list[RuleResult]
    score: np.ndarray

    def ranked(self) -> np.ndarray:
        return np.argsort(-self.score, kind="stable")


def peer_groups(data: BankData, min_peers: int) -> np.ndarray:
    fine = np.array(
        [
            f"{g}·{'分行营业部' if b == 'head' else '支行'}"
            for g, b in zip(data.grade, data.branch_type, strict=True)
        ],
        dtype=object,
    )
    coarse = np.array([str(g) for g in data.grade], dtype=object)
    out = fine.copy()
    labels, counts = np.unique(fine, return_counts=True) if len(fine) else (np.array([]), np.array([]))
    small = set(labels[counts < min_peers].tolist())
    if small:
        widen = np.array([f in small for f in fine], dtype=bool)
        out[widen] = coarse[widen]
        glabels, gcounts = np.unique(coarse, return_counts=True)
        tiny = set(glabels[gcounts < min_peers].tolist())
        if tiny:
            out[widen & np.array([c in tiny for c in coarse], dtype=bool)] = "全行"
    return out


def robust_stats(
    value: np.ndarray, groups: np.ndarray, min_scale: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    median = np.full(len(value), np.nan)
    scale = np.full(len(value), np.nan)
    for label in np.unique(groups):
        members = groups == label
        v = value[members]
        v = v[np.isfinite(v)]
        if len(v) == 0:
            continue
        med = float(np.median(v))
        mad = float(np.median(np.abs(v - med))) * 1.4826
        # the quartile term guards zero-inflated readings; in a tiny group the subject itself would set it
        upper = (float(np.percentile(v, 75)) - med) / 0.6745 if len(v) >= 20 else 0.0
        median[members] = med
        scale[members] = max(mad, upper, float(min_scale))
    z = np.where(np.isfinite(value) & np.isfinite(median), (value - median) / scale, np.nan)
    return median, scale, z


def evaluate(
    data: BankData, settings: dict[str, dict[str, Any]], *, only: list[str] | None = None
) -> Evaluation:
    score_params = {**SCORE_DEFAULTS, **settings.get("_score", {})}
    groups = peer_groups(data, int(score_params["min_peers"]))
    results = []
    total = np.zeros(data.n)
    for rule in RULES:
        if only is not None and rule.name not in only:
            continue
        override = settings.get(rule.name, {})
        if override.get("enabled") is False:
            continue
        params = {**rule.defaults, **{k: v for k, v in override.items() if k != "enabled"}}
        reading = rule.measure(data, params)
        median, scale, z = robust_stats(reading.value, groups, params["min_scale"])
        valid = np.isfinite(reading.value)
        fired = valid & (np.nan_to_num(reading.value) >= params["min"]) & (np.nan_to_num(z) >= params["z"])
        if reading.gate is not None:
            fired &= reading.gate
        zc = np.clip(np.nan_to_num(z), 0, score_params["z_cap"])
        points = params["weight"] * (np.clip(zc - 2, 0, None) + np.where(fired, 4.0, 0.0))
        total += points
        results.append(RuleResult(rule, params, reading, median, scale, z, fired, points))
    score = 100 * (1 - np.exp(-total / float(score_params["scale"])))
    return Evaluation(data, groups, results, score)


def reasons(ev: Evaluation, r: int, *, top: int = 3) -> list[dict[str, Any]]:
    """The rules that add most to RM r's score, fired ones first, each with its explanation."""
    scored = [(res.fired[r], res.points[r], res) for res in ev.results if res.points[r] > 0]
    scored.sort(key=lambda t: (not t[0], -t[1]))
    return [
        {
            "rule": res.rule.name,
            "title": res.rule.title,
            "fired": bool(fired),
            "z": round(float(np.nan_to_num(res.z[r])), 2),
            "explanation": res.rule.explain(res.reading, r, float(np.nan_to_num(res.median[r])), res.params),
        }
        for fired, _points, res in scored[:top]
    ]
