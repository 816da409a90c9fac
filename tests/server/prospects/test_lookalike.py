"""Features, scoring and reasons of the lookalike model on hand-made data."""

from __future__ import annotations

import numpy as np
import pytest

from server.prospects import lookalike
from server.prospects.lookalike import GRAPH_FEATURES, Graph


def blocks(n: int, **overrides) -> dict[str, np.ndarray]:
    base = {name: np.zeros(n, dtype=np.int16) for name in lookalike.FAMILIES}
    base.update({k: np.asarray(v, dtype=np.int16) for k, v in overrides.items()})
    return base


def test_encoding_puts_unknowns_in_their_own_band():
    b = lookalike.encode_firms(
        industry=["C36", "ZZZ", None],
        region=["310000", "999999", None],
        size=["large", "micro", None],
        ownership=["private", None, "foreign"],
        age_years=np.array([1.0, 30.0, np.nan]),
        capital_yuan=np.array([1e5, 5e9, np.nan]),
    )
    assert b["industry"][0] == lookalike.INDUSTRY_CODES.index("C36")
    assert b["industry"][1] == b["industry"][2] == len(lookalike.INDUSTRY_CODES)
    assert b["region"][1] == len(lookalike.REGION_CODES)
    assert b["size"].tolist() == [0, 3, 4]
    assert b["age"].tolist() == [0, len(lookalike.AGE_EDGES), len(lookalike.AGE_EDGES) + 1]
    assert b["capital"].tolist() == [0, len(lookalike.CAPITAL_EDGES), len(lookalike.CAPITAL_EDGES) + 1]


def test_graph_features_on_a_hand_made_graph():
    # Nodes: 0,1 customers (0 a seed, 1 a VIP), 2..7 prospects.
    # 2 - 0 (chain to a plain customer); 3 - 2 (two hops from nothing VIP); 4 - 1 (chain to the VIP);
    # 6 - 4 (two hops from the VIP); 5 in the seed's park; 7 alone. Customer 0 is also tied to VIP 1.
    chain = (np.array([2, 3, 4, 0, 6]), np.array([0, 2, 1, 1, 4]))
    park_of = np.array([7, -1, -1, -1, -1, 7, -1, -1])
    graph = Graph.build(8, chain, park_of)
    seeds = np.array([1, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
    customers = np.array([1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    top = np.array([0, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    f = lookalike.graph_features(graph, seeds=seeds, customers=customers, top=top)
    col = {name: i for i, name in enumerate(GRAPH_FEATURES)}
    assert f[2, col["customer_chain"]] == 1 and f[2, col["top_chain"]] == 0
    assert f[2, col["top_two_hop"]] == 1  # through customer 0, which is tied to the VIP
    assert f[3, col["customer_chain"]] == 0 and f[3, col["top_two_hop"]] == 0  # three steps away
    assert f[4, col["customer_chain"]] == 1 and f[4, col["top_chain"]] == 1
    assert f[4, col["top_two_hop"]] == 0  # already one step away
    assert f[6, col["top_two_hop"]] == 1 and f[6, col["customer_chain"]] == 0
    assert f[1, col["top_two_hop"]] == 0  # a VIP's walk back to itself does not count
    assert f[1, col["top_chain"]] == 0  # nor is a VIP its own neighbour
    assert f[0, col["top_chain"]] == 1  # a customer is measured as a prospect is
    assert f[5, col["seed_park"]] == 1
    assert f[0, col["seed_park"]] == 0  # alone in its park but for itself
    assert f[7].sum() == 0


def test_a_version_stored_with_the_earlier_graph_features_still_explains():
    unl, graph_unl, _good, seeds, graph_seed = synthetic(n_unl=3000, n_seed=200)
    model = lookalike.train(
        seed_blocks=seeds, seed_graph=graph_seed, unlabelled_blocks=unl, unlabelled_graph=graph_unl
    )
    old = model.to_json()
    del old["graph_features"]
    old["graph_coef"] = [
        0.9,
        0.4,
        1.1,
        0.8,
        0.3,
    ]  # seed_chain, seed_two_hop, customer_chain, top_chain, seed_park
    restored = lookalike.Lookalike.from_json(old)
    col = {name: i for i, name in enumerate(GRAPH_FEATURES)}
    assert len(restored.graph_coef) == len(GRAPH_FEATURES)
    assert restored.graph_coef[col["customer_chain"]] == 1.1 and restored.graph_coef[col["top_chain"]] == 0.8
    assert restored.graph_coef[col["seed_park"]] == 0.3 and restored.graph_coef[col["top_two_hop"]] == 0.0
    row = {name: int(values[0]) for name, values in blocks(1, industry=[5]).items()}
    assert lookalike.explain(restored, row, np.ones(len(GRAPH_FEATURES), dtype=np.float32))


def test_duplicate_and_self_ties_count_once():
    graph = Graph.build(3, (np.array([0, 0, 1, 2]), np.array([1, 1, 0, 2])))
    assert graph.chain.nnz == 2  # 0-1 both ways; the self tie 2-2 dropped


def synthetic(n_unl: int = 20_000, n_seed: int = 400, seed: int = 1):
    """Good firms are in industry 5 and tied to seeds; seeds look like good firms."""
    rng = np.random.default_rng(seed)
    unl = blocks(n_unl, industry=rng.integers(0, 10, n_unl), size=rng.integers(0, 4, n_unl))
    good = (unl["industry"] == 5) | (rng.random(n_unl) < 0.02)
    graph_unl = np.zeros((n_unl, len(GRAPH_FEATURES)), dtype=np.float32)
    graph_unl[:, 0] = good & (rng.random(n_unl) < 0.5)
    seeds = blocks(
        n_seed,
        industry=np.where(rng.random(n_seed) < 0.8, 5, rng.integers(0, 10, n_seed)),
        size=rng.integers(0, 4, n_seed),
    )
    graph_seed = np.zeros((n_seed, len(GRAPH_FEATURES)), dtype=np.float32)
    graph_seed[:, 0] = rng.random(n_seed) < 0.5
    return unl, graph_unl, good, seeds, graph_seed


def test_pu_training_finds_the_planted_signal_and_beats_the_centroid():
    unl, graph_unl, good, seeds, graph_seed = synthetic()
    model = lookalike.train(
        seed_blocks=seeds, seed_graph=graph_seed, unlabelled_blocks=unl, unlabelled_graph=graph_unl
    )
    assert int(np.argmax(model.coef["industry"])) == 5
    assert model.graph_coef[0] > 0.5
    assert 0 < model.c <= 1
    raw = lookalike.raw_scores(model, unl, graph_unl)
    assert lookalike.lift_at(raw, good, 0.05) > 3
    centroid = lookalike.centroid_baseline(seeds, unl)
    assert lookalike.lift_at(raw, good, 0.05) >= lookalike.lift_at(centroid, good, 0.05)


def test_table_lookup_scoring_equals_the_fitted_linear_model():
    unl, graph_unl, _good, seeds, graph_seed = synthetic(n_unl=3000, n_seed=200)
    model = lookalike.train(
        seed_blocks=seeds, seed_graph=graph_seed, unlabelled_blocks=unl, unlabelled_graph=graph_unl
    )
    families = [f for f in lookalike.FAMILIES if f not in model.dropped]
    x = lookalike.design(unl, graph_unl, families)
    weights = np.concatenate([np.asarray(model.coef[f]) for f in families] + [np.asarray(model.graph_coef)])
    expected = x @ weights + model.intercept
    assert np.allclose(lookalike.raw_scores(model, unl, graph_unl), expected, atol=1e-4)
    restored = lookalike.Lookalike.from_json(model.to_json())
    assert np.allclose(lookalike.raw_scores(restored, unl, graph_unl), expected, atol=1e-4)


def test_seeds_from_one_region_do_not_teach_the_region():
    rng = np.random.default_rng(3)
    unl = blocks(5000, region=rng.integers(0, 16, 5000), industry=rng.integers(0, 10, 5000))
    seeds = blocks(300, region=np.full(300, 4), industry=np.where(rng.random(300) < 0.7, 2, 7))
    g0 = np.zeros((5000, len(GRAPH_FEATURES)), dtype=np.float32)
    g1 = np.zeros((300, len(GRAPH_FEATURES)), dtype=np.float32)
    assert lookalike.selection_families(seeds, unl) == ["region"]
    model = lookalike.train(seed_blocks=seeds, seed_graph=g1, unlabelled_blocks=unl, unlabelled_graph=g0)
    assert model.dropped == ["region"]
    assert set(model.coef["region"]) == {0.0}
    assert int(np.argmax(model.coef["industry"])) == 2


def test_large_firms_only_drop_size_and_what_stands_in_for_it():
    """Capital follows size across the universe; seeds picked among large firms would teach "large
    capital" in place of "large" unless capital goes with size. Ownership, unrelated, stays."""
    rng = np.random.default_rng(5)
    size = rng.choice(4, 8000, p=(0.05, 0.15, 0.3, 0.5))
    capital = np.clip(size * 2 + rng.integers(0, 2, 8000), 0, 9)
    unl = blocks(
        8000,
        size=size,
        capital=capital,
        ownership=rng.integers(0, 5, 8000),
        industry=rng.integers(0, 10, 8000),
    )
    seeds = blocks(
        200,
        size=np.zeros(200),
        capital=rng.integers(0, 2, 200),
        ownership=rng.integers(0, 5, 200),
        industry=np.where(rng.random(200) < 0.7, 3, 8),
    )
    assert lookalike.selection_families(seeds, unl) == ["size", "capital"]
    g0 = np.zeros((8000, len(GRAPH_FEATURES)), dtype=np.float32)
    g1 = np.zeros((200, len(GRAPH_FEATURES)), dtype=np.float32)
    model = lookalike.train(seed_blocks=seeds, seed_graph=g1, unlabelled_blocks=unl, unlabelled_graph=g0)
    assert set(model.coef["capital"]) == {0.0} and set(model.coef["size"]) == {0.0}
    assert int(np.argmax(model.coef["industry"])) == 3


def test_too_few_seeds_is_refused():
    unl = blocks(100)
    with pytest.raises(ValueError):
        lookalike.train(
            seed_blocks=blocks(5),
            seed_graph=np.zeros((5, len(GRAPH_FEATURES)), np.float32),
            unlabelled_blocks=unl,
            unlabelled_graph=np.zeros((100, len(GRAPH_FEATURES)), np.float32),
        )


def test_lift_top_share_and_percentiles():
    good = np.zeros(1000, dtype=bool)
    good[:10] = True  # base rate 1 %
    perfect = -np.arange(1000, dtype=float)
    assert lookalike.lift_at(perfect, good, 0.01) == pytest.approx(100.0)
    assert lookalike.lift_at(-perfect, good, 0.01) == 0.0
    assert sorted(lookalike.top_share(perfect, 0.05).tolist()) == list(range(50))
    pct = lookalike.percentiles(np.array([3.0, 1.0, 2.0, 10.0]))
    assert pct.tolist() == [50.0, 0.0, 25.0, 75.0]


def test_reasons_are_the_top_three_positive_factors_in_chinese():
    unl, graph_unl, _good, seeds, graph_seed = synthetic()
    model = lookalike.train(
        seed_blocks=seeds, seed_graph=graph_seed, unlabelled_blocks=unl, unlabelled_graph=graph_unl
    )
    row = {name: int(values[0]) for name, values in blocks(1, industry=[5]).items()}
    graph = np.zeros(len(GRAPH_FEATURES), dtype=np.float32)
    graph[0] = 1
    factors = lookalike.explain(model, row, graph)
    assert 1 <= len(factors) <= 3
    texts = [f["text"] for f in factors]
    assert any(t.startswith("行业：") for t in texts)
    assert lookalike.GRAPH_LABELS[GRAPH_FEATURES[0]] in texts
    assert all(f["weight"] > 0 for f in factors)
    assert [f["weight"] for f in factors] == sorted((f["weight"] for f in factors), reverse=True)
    assert lookalike.category_label("capital", 0).startswith("注册资本")
    assert lookalike.category_label("age", 2) == "成立4-7年"


def outcome_world(n_dev: int = 6000, seed: int = 5):
    """Seeds (customers) are nearly all tied to a customer, as a bank's book is, so the seeds read
    `customer_chain` as a strong sign; among the prospects the bank developed, a tie to any customer
    changes nothing and only a tie to a VIP (`top_chain`) lifts conversion."""
    rng = np.random.default_rng(seed)
    unl, graph_unl, _good, seeds, graph_seed = synthetic(n_unl=8000, n_seed=300, seed=seed)
    graph_unl[:, 0] = rng.random(len(graph_unl)) < 0.3
    graph_seed[:, 0] = rng.random(len(graph_seed)) < 0.9
    dev = blocks(n_dev, industry=rng.integers(0, 10, n_dev), size=rng.integers(0, 4, n_dev))
    graph_dev = np.zeros((n_dev, len(GRAPH_FEATURES)), dtype=np.float32)
    graph_dev[:, 0] = rng.random(n_dev) < 0.3
    graph_dev[:, 1] = graph_dev[:, 0] * (rng.random(n_dev) < 0.4)
    logit = -3.0 + 1.5 * (dev["industry"] == 5) + 1.5 * graph_dev[:, 1]
    converted = rng.random(n_dev) < 1 / (1 + np.exp(-logit))
    outcomes = lookalike.Outcomes(blocks=dev, graph=graph_dev, converted=converted)
    return unl, graph_unl, seeds, graph_seed, outcomes


def test_fit_ties_recovers_the_weights_of_outcomes_given_an_offset():
    rng = np.random.default_rng(9)
    n = 40_000
    family = rng.normal(0, 1, n)
    graph = (rng.random((n, 2)) < 0.3).astype(np.float32)
    logit = -2.5 + 0.8 * family + 0.5 * graph[:, 0] + 1.5 * graph[:, 1]
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    intercept, scale, weights = lookalike.fit_ties(family, graph, converted)
    assert abs(intercept + 2.5) < 0.15 and abs(scale - 0.8) < 0.1
    assert abs(weights[0] - 0.5) < 0.15 and abs(weights[1] - 1.5) < 0.15


def test_tie_weights_are_learnt_from_outcomes_not_from_the_seeds():
    unl, graph_unl, seeds, graph_seed, outcomes = outcome_world()
    assert outcomes.enough()
    common = {
        "seed_blocks": seeds,
        "seed_graph": graph_seed,
        "unlabelled_blocks": unl,
        "unlabelled_graph": graph_unl,
    }
    seeds_only = lookalike.train(**common)
    learnt = lookalike.train(**common, outcomes=outcomes)
    chain, top = GRAPH_FEATURES.index("customer_chain"), GRAPH_FEATURES.index("top_chain")
    assert seeds_only.graph_coef[chain] > 1.0  # customers are tied to customers: read as a strong sign
    assert seeds_only.metrics["ties"] == "seeds"
    assert learnt.metrics["ties"] == "outcomes" and learnt.metrics["conversions"] == int(
        outcomes.converted.sum()
    )
    assert abs(learnt.graph_coef[chain]) < 0.35  # a tie to any customer lifts no developed prospect
    assert learnt.graph_coef[top] > 1.0  # a tie to a VIP does
    assert learnt.c == 1.0  # the output is p(converts | developed, x) itself
    assert int(np.argmax(learnt.coef["industry"])) == 5  # the firm families still come from the seeds
    # Still a table look-up per family, and it survives storage.
    families = [f for f in lookalike.FAMILIES if f not in learnt.dropped]
    x = lookalike.design(unl, graph_unl, families)
    weights = np.concatenate([np.asarray(learnt.coef[f]) for f in families] + [np.asarray(learnt.graph_coef)])
    restored = lookalike.Lookalike.from_json(learnt.to_json())
    assert np.allclose(
        lookalike.raw_scores(restored, unl, graph_unl), x @ weights + learnt.intercept, atol=1e-4
    )


def test_too_few_outcomes_keep_the_seeds_tie_weights():
    unl, graph_unl, seeds, graph_seed, outcomes = outcome_world(n_dev=600)
    assert not outcomes.enough()
    common = {
        "seed_blocks": seeds,
        "seed_graph": graph_seed,
        "unlabelled_blocks": unl,
        "unlabelled_graph": graph_unl,
    }
    with_few = lookalike.train(**common, outcomes=outcomes)
    assert with_few.metrics["ties"] == "seeds"
    assert with_few.graph_coef == lookalike.train(**common).graph_coef


def test_the_lift_leaves_out_the_prospects_whose_outcome_the_model_saw():
    # 1,000 prospects, 50 good. The model ranks first the 20 good ones it was shown (seen), then
    # random; left out, its lift is what it finds among the others (none), not the 20 it was told.
    rng = np.random.default_rng(4)
    good = np.zeros(1000, dtype=bool)
    good[:50] = True
    seen = np.zeros(1000, dtype=bool)
    seen[:20] = True
    scores = rng.random(1000)
    scores[:20] += 10
    scores[20:50] -= 10  # the unseen good ones at the bottom
    assert lookalike.lift_at(scores, good, 0.05) > 5
    assert lookalike.lift_at(scores, good, 0.05, leave_out=seen) == 0.0
    # Base rate too: 30 good among 980.
    perfect = good.astype(float)
    assert lookalike.lift_at(perfect, good, 0.05, leave_out=seen) == pytest.approx((30 / 49) / (30 / 980))
