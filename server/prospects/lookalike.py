"""The lookalike model (智能获客): positive-unlabelled learning over firm and graph features.

Everything here works on columns (numpy arrays), never on rows, so 1,000,000 prospects are encoded,
scored and ranked in well under a second. The same functions serve the training job, the API's
reasons and the benchmark; none of them sees the demo's planted truth.

- Firms are encoded as one category index per family (industry, region, size, ownership, age band,
  capital band) plus graph features over one graph whose nodes are the bank's customers and the
  prospects, joined by supply-chain/shareholding links, and the industrial parks they share.
- Training follows Elkan & Noto (2008): a logistic regression separates the seeds (labelled
  positives) from the unlabelled prospects; on held-out seeds its mean output c estimates the
  labelling rate, and p(good | x) = g(x) / c. Ranking uses g's log-odds.
- The seeds are customers, so they cannot say how much a tie to the book lifts a prospect. With
  enough observed outcomes (developed prospects that converted or did not), the graph features'
  weights are fitted on those instead, the seeds' firm-family score as a scaled offset (`fit_ties`).
- When the seeds sit almost all in one region or one size class that is not common in the universe
  (seeds from one region only, large firms only), that family describes how the seeds were chosen,
  not what makes a good customer: it is left out of the model (`dropped`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from server.reference import INDUSTRIES, REGIONS

INDUSTRY_CODES = list(INDUSTRIES)
REGION_CODES = list(REGIONS)
SIZES = ("large", "medium", "small", "micro")
OWNERSHIPS = ("government", "central_soe", "local_soe", "private", "foreign")
AGE_EDGES = (2.0, 4.0, 7.0, 11.0, 16.0, 25.0)  # years
CAPITAL_EDGES = (5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0)  # log10 of registered capital in yuan

FAMILIES: dict[str, int] = {
    "industry": len(INDUSTRY_CODES) + 1,  # + unknown
    "region": len(REGION_CODES) + 1,
    "size": len(SIZES) + 1,
    "ownership": len(OWNERSHIPS) + 1,
    "age": len(AGE_EDGES) + 2,
    "capital": len(CAPITAL_EDGES) + 2,
}
# Ties to the seeds themselves by supply chain are left out: the seeds are customers, and customers
# link to each other far more often than prospects link to them, so a seed-vs-prospect contrast
# read "tied to another seed" as a strong sign that prospects can hardly ever show (it lowered the
# lift on the development universes). Ties to the book and to its best customers are measured the
# same way for a seed and for a prospect.
GRAPH_FEATURES = (
    "customer_chain",  # linked by supply chain/shareholding to any bank customer
    "top_chain",  # linked to a VIP/high-tier customer
    "top_two_hop",  # two supply-chain/shareholding steps from a VIP/high-tier customer, not one
    "seed_park",  # in the same industrial park as a seed
)
# What versions trained before top_two_hop stored, in this order.
LEGACY_GRAPH_FEATURES = ("seed_chain", "seed_two_hop", "customer_chain", "top_chain", "seed_park")

FAMILY_LABELS = {
    "industry": "行业",
    "region": "地区",
    "size": "规模",
    "ownership": "所有制",
    "age": "成立年限",
    "capital": "注册资本",
}
GRAPH_LABELS = {
    "top_two_hop": "经一家企业连到我行重点客户（供应链/股权）",
    "customer_chain": "是我行客户的上下游或关联企业",
    "top_chain": "与我行重点客户有业务往来",
    "seed_park": "与种子客户同在一个产业园区",
}
SIZE_LABELS = {"large": "大型企业", "medium": "中型企业", "small": "小型企业", "micro": "微型企业"}
OWNERSHIP_LABELS = {
    "government": "机关事业单位",
    "central_soe": "央企",
    "local_soe": "地方国企",
    "private": "民营企业",
    "foreign": "外资企业",
}


def _index(values: np.ndarray | list, vocabulary: list[str] | tuple[str, ...]) -> np.ndarray:
    lookup = {v: i for i, v in enumerate(vocabulary)}
    unknown = len(vocabulary)
    return np.fromiter((lookup.get(v, unknown) for v in values), dtype=np.int16, count=len(values))


def encode_firms(
    *,
    industry: list | np.ndarray,
    region: list | np.ndarray,
    size: list | np.ndarray,
    ownership: list | np.ndarray,
    age_years: np.ndarray,
    capital_yuan: np.ndarray,
) -> dict[str, np.ndarray]:
    """One category index per family; NaN age or capital falls into the family's unknown band."""
    age = np.asarray(age_years, dtype=np.float64)
    capital = np.asarray(capital_yuan, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_cap = np.where(capital > 0, np.log10(np.where(capital > 0, capital, 1.0)), np.nan)
    age_band = np.digitize(age, AGE_EDGES).astype(np.int16)
    age_band[np.isnan(age)] = len(AGE_EDGES) + 1
    cap_band = np.digitize(log_cap, CAPITAL_EDGES).astype(np.int16)
    cap_band[np.isnan(log_cap)] = len(CAPITAL_EDGES) + 1
    return {
        "industry": _index(industry, INDUSTRY_CODES),
        "region": _index(region, REGION_CODES),
        "size": _index(size, SIZES),
        "ownership": _index(ownership, OWNERSHIPS),
        "age": age_band,
        "capital": cap_band,
    }


def take(blocks: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {name: values[rows] for name, values in blocks.items()}


def concat(*parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.concatenate([p[name] for p in parts]) for name in FAMILIES}


# --- the graph --------------------------------------------------------------------------------


@dataclass
class Graph:
    """Undirected supply-chain/shareholding adjacency over nodes 0..n-1 (customers first, then
    prospects), and each node's industrial park (-1: none)."""

    n: int
    chain: sparse.csr_matrix
    park_of: np.ndarray

    @staticmethod
    def build(n: int, chain: tuple[np.ndarray, np.ndarray], park_of: np.ndarray | None = None) -> Graph:
        def matrix(a: np.ndarray, b: np.ndarray) -> sparse.csr_matrix:
            a = np.asarray(a, dtype=np.int64)
            b = np.asarray(b, dtype=np.int64)
            keep = a != b
            a, b = a[keep], b[keep]
            m = sparse.coo_matrix(
                (np.ones(2 * len(a), dtype=np.float32), (np.concatenate([a, b]), np.concatenate([b, a]))),
                shape=(n, n),
            ).tocsr()
            m.data[:] = 1.0  # duplicate ties count once
            return m

        parks = np.full(n, -1, dtype=np.int64) if park_of is None else np.asarray(park_of, dtype=np.int64)
        return Graph(n, matrix(*chain), parks)


def graph_features(graph: Graph, *, seeds: np.ndarray, customers: np.ndarray, top: np.ndarray) -> np.ndarray:
    """(n, len(GRAPH_FEATURES)) of 0/1. A node's own membership never counts for itself: a VIP
    customer's ties are to *other* VIP customers (the two-hop count removes the walk back to
    itself), a seed's park neighbours are other seeds."""
    s = seeds.astype(np.float32)
    t = top.astype(np.float32)
    one_top = graph.chain @ t
    two_top = graph.chain @ one_top - np.asarray(graph.chain.getnnz(axis=1), dtype=np.float32) * t
    out = np.empty((graph.n, len(GRAPH_FEATURES)), dtype=np.float32)
    out[:, 0] = (graph.chain @ customers.astype(np.float32)) > 0
    out[:, 1] = one_top > 0
    out[:, 2] = (two_top > 0) & (one_top == 0)
    in_park = graph.park_of >= 0
    if in_park.any():
        seeds_in_park = np.bincount(
            graph.park_of[in_park], weights=s[in_park], minlength=graph.park_of.max() + 1
        )
        others = np.where(in_park, seeds_in_park[np.where(in_park, graph.park_of, 0)] - s, 0)
        out[:, 3] = others > 0
    else:
        out[:, 3] = 0
    return out


# --- the model --------------------------------------------------------------------------------


@dataclass
class Lookalike:
    intercept: float
    coef: dict[str, list[float]]  # family -> one weight per category
    graph_coef: list[float]
    c: float  # Elkan-Noto labelling rate, p(labelled | good)
    dropped: list[str] = field(default_factory=list)
    baseline: dict[str, float] = field(default_factory=dict)  # mean contribution per family
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "intercept": self.intercept,
            "coef": self.coef,
            "graph_coef": self.graph_coef,
            "c": self.c,
            "dropped": self.dropped,
            "baseline": self.baseline,
            "graph_features": list(GRAPH_FEATURES),
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Lookalike:
        # A version stored with other graph features keeps the weights of those still computed.
        stored = dict(
            zip(data.get("graph_features", LEGACY_GRAPH_FEATURES), data["graph_coef"], strict=False)
        )
        return Lookalike(
            intercept=float(data["intercept"]),
            coef={k: list(v) for k, v in data["coef"].items()},
            graph_coef=[float(stored.get(name, 0.0)) for name in GRAPH_FEATURES],
            c=float(data["c"]),
            dropped=list(data.get("dropped", [])),
            baseline=dict(data.get("baseline", {})),
        )


def _offsets(families: list[str]) -> dict[str, int]:
    out, at = {}, 0
    for name in families:
        out[name] = at
        at += FAMILIES[name]
    return out


def design(blocks: dict[str, np.ndarray], graph: np.ndarray, families: list[str]) -> sparse.csr_matrix:
    n = len(graph)
    offsets = _offsets(families)
    width = sum(FAMILIES[f] for f in families)
    cols = [blocks[f].astype(np.int64) + offsets[f] for f in families]
    rows = np.repeat(np.arange(n), len(families))
    onehot = sparse.csr_matrix(
        (np.ones(n * len(families), dtype=np.float32), (rows, np.stack(cols, axis=1).ravel())),
        shape=(n, width),
    )
    return sparse.hstack([onehot, sparse.csr_matrix(graph)], format="csr")


PROXY_NMI = 0.1  # a family this tied to a dropped one (normalised mutual information) goes with it


def _nmi(a: np.ndarray, b: np.ndarray, *, most: int = 200_000) -> float:
    from sklearn.metrics import normalized_mutual_info_score

    step = max(1, len(a) // most)
    return float(normalized_mutual_info_score(a[::step], b[::step]))


def selection_families(
    seed_blocks: dict[str, np.ndarray], universe_blocks: dict[str, np.ndarray]
) -> list[str]:
    """Families that describe how the seeds were picked: ≥ 90 % of seeds in one region or one size
    that holds < 50 % of the universe; then the families that stand in for a dropped one across the
    universe (registered capital and age follow size), or the bias would come back through them.
    Industry is kept: "firms like my customers" means their trade."""
    dropped = []
    for name in ("region", "size"):
        counts = np.bincount(seed_blocks[name], minlength=FAMILIES[name])
        top = int(counts.argmax())
        if counts[top] >= 0.9 * counts.sum() and np.mean(universe_blocks[name] == top) < 0.5:
            dropped.append(name)
    for name in list(dropped):
        for other in FAMILIES:
            if other in dropped or other == "industry":
                continue
            if _nmi(universe_blocks[name], universe_blocks[other]) >= PROXY_NMI:
                dropped.append(other)
    return dropped


@dataclass
class Outcomes:
    """Prospects the bank developed (an RM visited them) whose outcome is known: converted to a
    customer, or the claim ended without it. Their firm families and graph features as columns."""

    blocks: dict[str, np.ndarray]
    graph: np.ndarray
    converted: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.converted)

    def enough(self) -> bool:
        """Ten conversions and ten non-conversions per weight fitted (the intercept, the firm
        families' scale and one per graph feature): fewer, and the seeds' weights are kept."""
        need = 10 * (2 + len(GRAPH_FEATURES))
        converted = int(np.sum(self.converted))
        return converted >= need and len(self.converted) - converted >= need


OUTCOME_L2 = 1.0  # a weak prior on the tie weights (in log-odds per unit), against a tie seen rarely


def fit_ties(
    family_score: np.ndarray, graph: np.ndarray, converted: np.ndarray, *, l2: float = OUTCOME_L2
) -> tuple[float, float, np.ndarray]:
    """A logistic regression of converted vs developed-not-converted on the seeds' firm-family score
    and the graph features: returns (intercept, the family score's scale, one weight per graph
    feature). The seeds say which firms look like the bank's customers; only outcomes say how much
    a tie to the book lifts a *prospect*, which customers (the seeds) cannot tell."""
    from scipy.optimize import minimize

    x = np.column_stack([np.ones(len(family_score)), family_score, graph]).astype(np.float64)
    y = np.asarray(converted, dtype=np.float64)
    penalised = np.r_[0.0, 0.0, np.ones(graph.shape[1])] * l2

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ theta
        nll = float(np.sum(np.logaddexp(0.0, z) - y * z)) + 0.5 * float(penalised @ theta**2)
        grad = x.T @ (1.0 / (1.0 + np.exp(-z)) - y) + penalised * theta
        return nll, grad

    start = np.zeros(x.shape[1])
    start[0] = float(np.log((y.mean() + 1e-6) / (1 - y.mean() + 1e-6)))
    result = minimize(loss, start, jac=True, method="L-BFGS-B")
    theta = result.x
    return float(theta[0]), float(theta[1]), theta[2:]


def train(
    *,
    seed_blocks: dict[str, np.ndarray],
    seed_graph: np.ndarray,
    unlabelled_blocks: dict[str, np.ndarray],
    unlabelled_graph: np.ndarray,
    outcomes: Outcomes | None = None,
    random_state: int = 0,
    max_unlabelled: int = 60_000,
    regularisation: float = 0.3,
) -> Lookalike:
    """Elkan-Noto PU learning with an L2 logistic regression (scikit-learn) for the firm families.
    With enough observed outcomes (`Outcomes.enough`), the graph features' weights (and the scale
    of the firm-family score) are then fitted on those outcomes instead (`fit_ties`)."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(random_state)
    n_seed = len(seed_graph)
    if n_seed < 10:
        raise ValueError("at least 10 seeds are needed")
    dropped = selection_families(seed_blocks, unlabelled_blocks)
    families = [f for f in FAMILIES if f not in dropped]
    n_unl = len(unlabelled_graph)
    sample = rng.choice(n_unl, size=min(n_unl, max_unlabelled), replace=False)
    holdout = rng.random(n_seed) < 0.2
    if holdout.sum() < 3:
        holdout[:3] = True
    train_seeds = ~holdout
    x_pos = design(take(seed_blocks, np.flatnonzero(train_seeds)), seed_graph[train_seeds], families)
    x_unl = design(take(unlabelled_blocks, sample), unlabelled_graph[sample], families)
    x = sparse.vstack([x_pos, x_unl], format="csr")
    y = np.concatenate([np.ones(x_pos.shape[0]), np.zeros(x_unl.shape[0])])
    # Both classes weigh the same in total, and that total is the number of seeds: the L2 prior
    # then weighs against the evidence there really is, so 30 seeds spread over 41 industries and
    # 17 regions are shrunk hard (thin categories are mostly noise) and 1,000 seeds much less.
    w = np.where(y == 1, 1.0, x_pos.shape[0] / x_unl.shape[0])
    clf = LogisticRegression(C=regularisation, max_iter=500, solver="lbfgs")
    clf.fit(x, y, sample_weight=w)
    weights = clf.coef_[0]
    offsets = _offsets(families)
    coef = {
        f: (weights[offsets[f] : offsets[f] + FAMILIES[f]].tolist() if f in families else [0.0] * FAMILIES[f])
        for f in FAMILIES
    }
    width = sum(FAMILIES[f] for f in families)
    model = Lookalike(
        intercept=float(clf.intercept_[0]),
        coef=coef,
        graph_coef=weights[width:].tolist(),
        c=1.0,
        dropped=dropped,
    )
    held = raw_scores(model, take(seed_blocks, np.flatnonzero(holdout)), seed_graph[holdout])
    model.c = float(np.mean(1.0 / (1.0 + np.exp(-held))))
    ties, scale = "seeds", 1.0
    if outcomes is not None and outcomes.enough():
        no_graph = np.zeros_like(outcomes.graph)
        intercept, scale, graph_coef = fit_ties(
            raw_scores(model, outcomes.blocks, no_graph), outcomes.graph, outcomes.converted
        )
        # raw = intercept + scale * (model.intercept + families) + graph @ graph_coef, still a
        # table look-up per family. The output is now p(converts | developed, x) itself: c = 1.
        model.intercept = intercept + scale * model.intercept
        coef = {f: [scale * w for w in values] for f, values in coef.items()}
        model.coef = coef
        model.graph_coef = graph_coef.tolist()
        model.c = 1.0
        ties = "outcomes"
    model.baseline = {
        f: float(np.mean(np.asarray(coef[f])[unlabelled_blocks[f]])) for f in FAMILIES if f not in dropped
    }
    model.baseline.update(
        {
            g: float(np.mean(unlabelled_graph[:, i]) * model.graph_coef[i])
            for i, g in enumerate(GRAPH_FEATURES)
        }
    )
    model.metrics = {
        "seeds": int(n_seed),
        "unlabelled": int(len(sample)),
        "c": model.c,
        "dropped": dropped,
        "ties": ties,  # where the graph features' weights come from: the seeds, or outcomes
        "outcomes": 0 if outcomes is None else len(outcomes),
        "conversions": 0 if outcomes is None else int(np.sum(outcomes.converted)),
        "family_scale": round(scale, 3),  # the firm-family score's weight in the outcomes' fit
    }
    return model


def raw_scores(model: Lookalike, blocks: dict[str, np.ndarray], graph: np.ndarray) -> np.ndarray:
    """The model's log-odds, by table look-up per family (no matrix is built)."""
    out = np.full(len(graph), model.intercept, dtype=np.float64)
    for name in FAMILIES:
        if name in model.dropped:
            continue
        out += np.asarray(model.coef[name], dtype=np.float64)[blocks[name]]
    out += graph @ np.asarray(model.graph_coef, dtype=np.float32)
    return out


def probability(model: Lookalike, raw: np.ndarray) -> np.ndarray:
    """Elkan-Noto: p(good | x) = g(x) / c, capped at 1."""
    return np.minimum(1.0, (1.0 / (1.0 + np.exp(-raw))) / max(model.c, 1e-6))


def percentiles(raw: np.ndarray) -> np.ndarray:
    """0..100: the share of prospects scored below, so 99 means the top 1 %."""
    order = np.argsort(raw, kind="stable")
    ranks = np.empty(len(raw), dtype=np.float64)
    ranks[order] = np.arange(len(raw))
    return np.floor(ranks * 100.0 / max(len(raw), 1) * 10) / 10


def top_share(raw: np.ndarray, share: float) -> np.ndarray:
    """Indices of the best `share` of the scores (unordered), in linear time."""
    k = max(1, int(math.ceil(len(raw) * share)))
    return np.argpartition(-raw, k - 1)[:k]


def centroid_baseline(
    seed_blocks: dict[str, np.ndarray], candidate_blocks: dict[str, np.ndarray]
) -> np.ndarray:
    """The naive baseline: minus the distance to the seeds' centroid in one-hot space (higher is
    more alike), over the same firm families as the model and no graph."""
    score = np.zeros(len(candidate_blocks["industry"]), dtype=np.float64)
    for name, width in FAMILIES.items():
        centroid = np.bincount(seed_blocks[name], minlength=width) / len(seed_blocks[name])
        # ||onehot(k) - centroid||^2 = 1 - 2 centroid[k] + ||centroid||^2
        score -= 1.0 - 2.0 * centroid[candidate_blocks[name]] + float(centroid @ centroid)
    return score


def lift_at(
    order_scores: np.ndarray, good: np.ndarray, share: float, *, leave_out: np.ndarray | None = None
) -> float:
    """The good rate in the best `share` over the good rate of all. `leave_out` (bool per row): the
    prospects whose outcome the model learnt from, out of the ranking and of the base rate alike, so
    a model is never credited for finding what it was shown."""
    if leave_out is not None:
        keep = ~np.asarray(leave_out, dtype=bool)
        order_scores, good = order_scores[keep], good[keep]
    base = float(np.mean(good)) if len(good) else 0.0
    if base == 0:
        return 0.0
    return float(np.mean(good[top_share(order_scores, share)])) / base


# --- reasons ----------------------------------------------------------------------------------


def category_label(family: str, index: int) -> str:
    if family == "industry":
        return (
            INDUSTRIES.get(INDUSTRY_CODES[index], "未知行业") if index < len(INDUSTRY_CODES) else "未知行业"
        )
    if family == "region":
        return REGIONS[REGION_CODES[index]]["name"] if index < len(REGION_CODES) else "未知地区"
    if family == "size":
        return SIZE_LABELS.get(SIZES[index], "规模未知") if index < len(SIZES) else "规模未知"
    if family == "ownership":
        return OWNERSHIP_LABELS.get(OWNERSHIPS[index], "未知") if index < len(OWNERSHIPS) else "未知"
    if family == "age":
        edges = (0.0, *AGE_EDGES)
        if index > len(AGE_EDGES):
            return "成立时间未知"
        if index == len(AGE_EDGES):
            return f"成立{int(AGE_EDGES[-1])}年以上"
        return f"成立{int(edges[index])}-{int(edges[index + 1])}年"
    if family == "capital":
        if index > len(CAPITAL_EDGES):
            return "注册资本未知"

        def wan(log10: float) -> str:
            value = 10**log10 / 10_000
            return f"{value / 10_000:.1f}亿" if value >= 10_000 else f"{value:.0f}万"

        if index == 0:
            return f"注册资本{wan(CAPITAL_EDGES[0])}元以下"
        if index == len(CAPITAL_EDGES):
            return f"注册资本{wan(CAPITAL_EDGES[-1])}元以上"
        return f"注册资本{wan(CAPITAL_EDGES[index - 1])}-{wan(CAPITAL_EDGES[index])}元"
    raise KeyError(family)


def explain(
    model: Lookalike, blocks: dict[str, int], graph: np.ndarray, top: int = 3
) -> list[dict[str, Any]]:
    """The factors that lift this prospect's score most above an average prospect's, in Chinese."""
    factors: list[dict[str, Any]] = []
    for name in FAMILIES:
        if name in model.dropped:
            continue
        index = int(blocks[name])
        weight = model.coef[name][index] - model.baseline.get(name, 0.0)
        label = category_label(name, index)
        factors.append(
            {"factor": name, "weight": round(weight, 3), "text": f"{FAMILY_LABELS[name]}：{label}"}
        )
    for i, name in enumerate(GRAPH_FEATURES):
        if graph[i]:
            weight = model.graph_coef[i] - model.baseline.get(name, 0.0)
            factors.append({"factor": name, "weight": round(weight, 3), "text": GRAPH_LABELS[name]})
    factors.sort(key=lambda f: -float(f["weight"]))
    return [f for f in factors if float(f["weight"]) > 0][:top]
