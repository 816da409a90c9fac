"""The next-purchase model on constructed histories: what a customer buys next follows from their
segment and from what they bought last, and a bank with a single product bought still ranks."""

from __future__ import annotations

from datetime import date

import numpy as np

from server.assistant import recommender_model

TODAY = date(2026, 12, 1)
ACCOUNT, LOAN, CARD, PAYROLL, DEPOSIT = 101, 102, 103, 104, 105


def _history(sequences: list[tuple[str, list[int]]]) -> recommender_model.History:
    """Each customer's segment and products in the order bought, a month apart."""
    products = [ACCOUNT, LOAN, CARD, PAYROLL, DEPOSIT]
    opened = np.zeros((len(sequences), len(products)), dtype=np.int32)
    start = date(2025, 1, 1).toordinal()
    for row, (_segment, bought) in enumerate(sequences):
        for n, product in enumerate(bought):
            opened[row, products.index(product)] = start + 30 * n
    return recommender_model.History(
        list(range(1, len(sequences) + 1)), products, opened, [s for s, _ in sequences]
    )


def _top(model: recommender_model.Recommender, *, held: dict[int, date], segment: str) -> list[int]:
    ranked = model.rank(
        held=held,
        segment=segment,
        today=TODAY,
        allowed=[ACCOUNT, LOAN, CARD, PAYROLL, DEPOSIT],
        names={},
        limit=2,
    )
    return [s.product_id for s in ranked]


def test_the_next_purchase_follows_the_segment_and_the_last_product():
    small, large = "corporate:C:small", "corporate:C:large"
    sequences = (
        # small firms: account, loan, card; large firms: account, payroll, deposit
        [(small, [ACCOUNT, LOAN, CARD])] * 30
        + [(large, [ACCOUNT, PAYROLL, DEPOSIT])] * 30
        # a few the other way round, so neither path is the only one seen
        + [(small, [ACCOUNT, PAYROLL])] * 3
        + [(large, [ACCOUNT, LOAN])] * 3
    )
    model = recommender_model.Recommender(recommender_model.train(_history(sequences), today=TODAY))
    assert model.coef is not None
    account = {ACCOUNT: date(2026, 6, 1)}
    assert _top(model, held=account, segment=small)[0] == LOAN
    assert _top(model, held=account, segment=large)[0] == PAYROLL
    # after the loan comes the card; after payroll, the deposit
    assert _top(model, held={**account, LOAN: date(2026, 7, 1)}, segment=small)[0] == CARD
    assert _top(model, held={**account, PAYROLL: date(2026, 7, 1)}, segment=large)[0] == DEPOSIT
    # a newcomer of either segment: the account first
    assert _top(model, held={}, segment=small)[0] == ACCOUNT
    # the probabilities are a distribution over the products
    p = model.next_purchase(held=account, segment=small)
    assert p is not None and abs(p.sum() - 1) < 1e-9 and p.argmax() == 1


def test_a_bank_with_one_product_bought_ranks_by_share():
    history = _history([("individual:young:mass", [DEPOSIT])] * 10)
    payload = recommender_model.train(history, today=TODAY)
    assert payload["next"] is None
    model = recommender_model.Recommender(payload)
    assert model.next_purchase(held={}, segment="individual:young:mass") is None
    assert _top(model, held={}, segment="individual:young:mass")[0] == DEPOSIT
