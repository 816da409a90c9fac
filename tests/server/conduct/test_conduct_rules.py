"""Each conduct rule on a hand-made bank: a case that fires and a near miss that does not. The bank
is 30 ordinary RMs of one peer group; RM 0 is the subject."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from server.conduct.data import BankData, Columns
from server.conduct.engine import evaluate

AS_OF = date(2026, 11, 30)
N = 30
TYPES = {
    "ts": np.float64,
    "created": np.float64,
    "adj": bool,
    "internal": bool,
    "inbound": bool,
    "won": bool,
    "has_location": bool,
    "has_next_step": bool,
}
TABLES = {
    "ledger": ["id", "rm", "day", "amount", "adj", "customer", "product", "ts"],
    "reveals": ["id", "rm", "ts", "internal", "customer"],
    "listing": ["id", "rm", "ts", "rows"],
    "moves": ["id", "rm", "ts", "customer", "inbound"],
    "claims": ["id", "rm", "ts", "won", "customer"],
    "overrides": ["id", "rm", "ts", "kind", "amount"],
    "visits": ["id", "rm", "ts", "created", "has_location", "has_next_step"],
    "phones": ["rm", "customer", "phone"],
    "emails": ["rm", "customer", "email"],
}
DEFAULTS = {"customer": -1}  # a claim without a customer (a prospect)


def at(day: date, hour: float) -> float:
    """Epoch seconds of a Beijing wall-clock time."""
    return (datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour - 8)).timestamp()


class Bank:
    def __init__(self):
        self.t: dict[str, list[dict]] = defaultdict(list)
        self.quals = [frozenset({"credit", "fund_sales"})] * N
        self.policies: list[tuple[int, int, str]] = []
        self.links: set[tuple[int, int]] = set()
        self.staff_phones: dict[int, int] = {}
        self.staff_emails: dict[int, int] = {}
        self.corporate: set[int] = set()
        self.book = np.full(N, 100)

    def add(self, table: str, **row) -> None:
        row.setdefault("id", len(self.t[table]) + 1)
        self.t[table].append(row)

    def sale(
        self,
        r: int,
        day: date,
        amount: int,
        *,
        hour: float = 10,
        product: int = 1,
        customer: int | None = None,
        adj: bool = False,
    ):
        self.add(
            "ledger",
            rm=r,
            day=day.toordinal(),
            amount=amount,
            adj=adj,
            customer=customer or 1000 + r,
            product=product,
            ts=at(day, hour),
        )

    def ordinary_ledger(self, rng: np.random.Generator, months: int = 24, rms=range(N)) -> None:
        for r in rms:
            for back in range(months):
                y, m = divmod(AS_OF.year * 12 + AS_OF.month - 1 - back, 12)
                for _ in range(6):
                    day = date(y, m + 1, int(rng.integers(1, 26)))
                    if day <= AS_OF:
                        self.sale(
                            r, day, int(rng.integers(50_000, 400_000)) * 100, hour=float(rng.uniform(9, 18))
                        )

    def build(self) -> BankData:
        end = datetime.combine(AS_OF + timedelta(days=1), datetime.min.time(), tzinfo=UTC) - timedelta(
            hours=8
        )
        cols = {}
        for table, names in TABLES.items():
            rows = self.t.get(table, [])
            cols[table] = Columns(
                **{
                    n: np.array([row.get(n, DEFAULTS.get(n)) for row in rows], dtype=TYPES.get(n, np.int64))
                    for n in names
                }
            )
        return BankData(
            as_of=AS_OF,
            now_ts=end.timestamp(),
            rm_ids=np.arange(1, N + 1),
            names=[f"rm{i}" for i in range(N)],
            grade=np.array(["中级"] * N, dtype=object),
            branch_type=np.array(["sub"] * N, dtype=object),
            team_id=np.ones(N, dtype=np.int64),
            quals=self.quals,
            book_size=self.book,
            required_qual={1: "credit", 2: "wealth"},
            links=self.links,
            policies=self.policies,
            staff_phones=self.staff_phones,
            staff_emails=self.staff_emails,
            corporate=self.corporate,
            **cols,
        )


def fired(bank: Bank, rule: str) -> tuple[bool, bool]:
    """(RM 0 fired, any other RM fired)."""
    ev = evaluate(bank.build(), {}, only=[rule])
    res = ev.results[0]
    assert res.rule.name == rule
    explanation = res.rule.explain(res.reading, 0, float(np.nan_to_num(res.median[0])), res.params)
    assert explanation and explanation.isprintable()
    return bool(res.fired[0]), bool(res.fired[1:].any())


@pytest.fixture
def rng():
    return np.random.default_rng(5)


def test_month_end_spike(rng):
    def bank(share: float, hour: float, on_last_day: bool = True) -> Bank:
        b = Bank()
        b.ordinary_ledger(rng, months=6, rms=range(1, N))
        for back in range(6):
            y, m = divmod(AS_OF.year * 12 + AS_OF.month - 2 - back, 12)
            last = (date(y + (m + 1) // 12, (m + 1) % 12 + 1, 1) - timedelta(days=1)).day
            for k in range(6):
                moved = k < round(6 * share)
                day = (last if on_last_day else 15) if moved else 5 + k
                b.sale(0, date(y, m + 1, day), 200_000_00, hour=hour if moved else 10)
        return b

    assert fired(bank(0.67, 21), "month_end_spike") == (True, False)
    assert fired(bank(0.67, 11), "month_end_spike") == (True, False)  # in the day, but two thirds
    # one entry a month booked the evening before the books close weighs triple
    assert fired(bank(0.17, 21), "month_end_spike")[0] is True
    # near misses: the same one entry a month in the day, or in the evening mid-month
    assert fired(bank(0.17, 11), "month_end_spike")[0] is False
    assert fired(bank(0.17, 21, on_last_day=False), "month_end_spike")[0] is False
    assert fired(bank(0.67, 21, on_last_day=False), "month_end_spike")[0] is False


def test_quick_reversal(rng):
    def bank(lag: int) -> Bank:
        b = Bank()
        b.ordinary_ledger(rng, months=6)
        for k in range(4):
            day = AS_OF - timedelta(days=30 + 20 * k)
            b.sale(0, day, 300_000_00, customer=77, product=3)
            b.sale(0, day + timedelta(days=lag), -250_000_00, customer=77, product=3, adj=True)
        return b

    assert fired(bank(4), "quick_reversal") == (True, False)
    assert fired(bank(15), "quick_reversal")[0] is False  # undone, but long after: not "soon"


def test_unqualified_sale(rng):
    b = Bank()
    b.ordinary_ledger(rng, months=2)
    b.sale(0, AS_OF - timedelta(days=10), 500_000_00, product=2)  # wealth: RM 0 lacks it
    assert fired(b, "unqualified_sale") == (True, False)
    b.quals = [frozenset({"credit", "fund_sales", "wealth"})] + b.quals[1:]
    assert fired(b, "unqualified_sale")[0] is False


def test_policy_burst(rng):
    def bank(extra: int) -> Bank:
        b = Bank()
        b.ordinary_ledger(rng, months=7)
        policy = AS_OF - timedelta(days=60)
        b.policies = [(policy.toordinal(), 9, "利好政策")]
        for k in range(extra):
            b.sale(0, policy + timedelta(days=k % 6), 600_000_00)
        return b

    assert fired(bank(8), "policy_burst") == (True, False)
    assert fired(bank(1), "policy_burst")[0] is False


def test_under_limit(rng):
    def bank(amount_yuan: int) -> Bank:
        b = Bank()
        b.ordinary_ledger(rng, months=6)
        for k in range(10):
            b.sale(0, AS_OF - timedelta(days=10 + 15 * k), amount_yuan * 100)
        return b

    assert fired(bank(2_980_000), "under_limit") == (True, False)
    assert fired(bank(2_700_000), "under_limit")[0] is False  # below the band under the 3m limit


def test_reveal_burst():
    def bank(count: int, hour: float) -> Bank:
        b = Bank()
        for r in range(N):
            for k in range(3):
                b.add(
                    "reveals", rm=r, ts=at(AS_OF - timedelta(days=5 + 11 * k), 11), internal=True, customer=1
                )
        for k in range(count):
            b.add(
                "reveals", rm=0, ts=at(AS_OF - timedelta(days=3), hour) + 20 * k, internal=False, customer=2
            )
        return b

    assert fired(bank(25, 23), "reveal_burst") == (True, False)
    assert fired(bank(6, 14), "reveal_burst")[0] is False  # a few, in the afternoon: under the floor


def test_data_hoarding():
    def bank(pages: int) -> Bank:
        b = Bank()
        for r in range(N):
            for k in range(4):
                b.add("listing", rm=r, ts=at(AS_OF - timedelta(days=2 + 5 * k), 10), rows=20)
        for k in range(pages):
            b.add("listing", rm=0, ts=at(AS_OF - timedelta(days=4), 23) + 10 * k, rows=20)
        return b

    assert fired(bank(40), "data_hoarding") == (True, False)
    assert fired(bank(8), "data_hoarding")[0] is False


def test_bulk_transfer():
    def bank(count: int, spread_days: int) -> Bank:
        b = Bank()
        for r in range(1, N, 3):
            b.add("moves", rm=r, ts=at(AS_OF - timedelta(days=20), 10), customer=r, inbound=True)
        for k in range(count):
            b.add(
                "moves",
                rm=0,
                ts=at(AS_OF - timedelta(days=30 - (k * spread_days) // count), 10),
                customer=500 + k,
                inbound=False,
            )
        return b

    assert fired(bank(25, 3), "bulk_transfer") == (True, False)
    assert fired(bank(25, 80), "bulk_transfer")[0] is False  # as many, spread over months


def test_shared_contact():
    def bank(linked: bool) -> Bank:
        b = Bank()
        for r in range(N):
            for k in range(5):
                b.add("phones", rm=r, customer=r * 100 + k, phone=13900000000 + r * 100 + k)
        for k in range(5):  # five of RM 0's customers answer on one number
            b.t["phones"][k]["phone"] = 18600000001
        if linked:
            b.links = {(min(a, c), max(a, c)) for a in range(5) for c in range(5) if a != c}
        return b

    assert fired(bank(False), "shared_contact") == (True, False)
    assert fired(bank(True), "shared_contact")[0] is False  # a linked family may share a number


def test_shared_contact_between_rm_and_customer():
    def bank(customer_phone: int, sharing_pairs: int = 0) -> Bank:
        b = Bank()
        for r in range(N):
            for k in range(5):
                b.add("phones", rm=r, customer=r * 100 + k, phone=13900000000 + r * 100 + k)
        b.staff_phones = {13800000000 + r: r + 1 for r in range(N)}  # every RM's own number (user id r + 1)
        b.t["phones"][0]["phone"] = customer_phone  # RM 0's first customer
        for k in range(sharing_pairs):  # customers of RM 0 sharing a number with RM 1's
            b.t["phones"][1 + k]["phone"] = b.t["phones"][5 + k]["phone"]
        return b

    own = bank(13800000000)  # the customer answers on RM 0's own phone
    assert fired(own, "shared_contact") == (True, False)
    ev = evaluate(own.build(), {}, only=["shared_contact"])
    assert (
        ev.results[0].rule.evidence(own.build(), ev.results[0].params, 0)[0]["label"]
        == "客户联系电话与本人登记电话相同"
    )
    # a colleague's phone on RM 0's customer is the colleague's (RM 7, user id 8) to explain, not RM 0's
    colleague = bank(13800000007)
    ev = evaluate(colleague.build(), {}, only=["shared_contact"])
    assert np.flatnonzero(ev.results[0].fired).tolist() == [7]
    assert ev.results[0].rule.evidence(colleague.build(), ev.results[0].params, 7)[0]["label"] == (
        "他人名下客户联系电话与本人登记电话相同"
    )
    # a staff member outside oversight (no RM of the run): RM 0, whose customer carries it, answers
    outside = bank(13800000099)
    outside.staff_phones[13800000099] = 99
    ev = evaluate(outside.build(), {}, only=["shared_contact"])
    assert np.flatnonzero(ev.results[0].fired).tolist() == [0]
    assert ev.results[0].rule.evidence(outside.build(), ev.results[0].params, 0)[0]["label"] == (
        "客户联系电话与其他员工登记电话相同"
    )
    # near misses: a number one digit away from a staff phone; one customer sharing with one other
    assert fired(bank(13800000099), "shared_contact")[0] is False
    assert fired(bank(13912345678, sharing_pairs=1), "shared_contact")[0] is False


def test_cherry_picking():
    def bank(won: int) -> Bank:
        b = Bank()
        for r in range(N):
            for k in range(4):
                b.add("claims", rm=r, ts=at(AS_OF - timedelta(days=10 + 20 * k), 10), won=k == 0)
        for k in range(30):
            b.add("claims", rm=0, ts=at(AS_OF - timedelta(days=5 + 5 * k), 10), won=k < won)
        return b

    assert fired(bank(1), "cherry_picking") == (True, False)
    assert fired(bank(12), "cherry_picking")[0] is False  # many claims, but they convert


def test_override_concentration():
    def bank(count: int) -> Bank:
        b = Bank()
        for r in range(1, N, 10):
            b.add("overrides", rm=r, ts=at(AS_OF - timedelta(days=40), 10), kind=0, amount=50_000_00)
        for k in range(count):
            b.add(
                "overrides",
                rm=0,
                ts=at(AS_OF - timedelta(days=10 + 20 * k), 10),
                kind=k % 2,
                amount=80_000_00,
            )
        return b

    assert fired(bank(6), "override_concentration") == (True, False)
    assert fired(bank(2), "override_concentration")[0] is False


def test_box_ticking():
    def bank(thin: int) -> Bank:
        b = Bank()
        for r in range(N):
            for k in range(20):
                t = at(AS_OF - timedelta(days=1 + 4 * k), 10 + k % 6)
                is_thin = r == 0 and k < thin
                created = at(AS_OF - timedelta(days=2), 23) + 30 * k if is_thin else t + 3600
                b.add(
                    "visits", rm=r, ts=t, created=created, has_location=not is_thin, has_next_step=not is_thin
                )
        return b

    assert fired(bank(15), "box_ticking") == (True, False)
    assert fired(bank(3), "box_ticking")[0] is False


def test_volatility(rng):
    def bank(kind: str) -> Bank:
        b = Bank()
        b.ordinary_ledger(rng, months=25, rms=range(1, N))
        swing = rng.lognormal(0, 1.2, 25)
        for back in range(25):
            y, m = divmod(AS_OF.year * 12 + AS_OF.month - 1 - back, 12)
            factor = {
                "erratic": swing[back],
                "block_season": 4.0 if m in (8, 9) else 0.5,
                "smooth_season": 0.3 + 3.5 * float(np.exp(-0.5 * ((m - 6 + 6) % 12 - 6) ** 2 / 1.2)),
                "mild": float(np.exp(rng.normal(0, 0.3))),
            }[kind]
            b.sale(0, date(y, m + 1, 10), int(1_200_000_00 * factor))
        return b

    assert fired(bank("erratic"), "volatility") == (True, False)
    # near misses: seasonal businesses repeat their year, ordinary noise is ordinary
    assert fired(bank("block_season"), "volatility")[0] is False
    assert fired(bank("smooth_season"), "volatility")[0] is False
    assert fired(bank("mild"), "volatility")[0] is False


def test_a_big_book_is_not_flagged_for_being_big(rng):
    """Ten times the business and the browsing of its peers, in the same proportions: no rule fires."""
    b = Bank()
    b.ordinary_ledger(rng, months=25)
    b.ordinary_ledger(rng, months=25, rms=[0] * 9)
    b.book[0] = 1000
    for r in range(N):
        for k in range(40 if r == 0 else 4):
            b.add("listing", rm=r, ts=at(AS_OF - timedelta(days=2 + k % 20), 10), rows=20)
    ev = evaluate(b.build(), {})
    assert not any(res.fired[0] for res in ev.results), [res.rule.name for res in ev.results if res.fired[0]]


def test_shared_email_between_rm_and_customer():
    """E-mail keys stand for normalised addresses (server.conduct.data.email_key); 7000 + r is RM r's
    own, 9000 + … the customers'."""

    def bank(contact_email: int, *, unrelated_sharers: int = 0, linked: bool = False) -> Bank:
        b = Bank()
        for r in range(N):
            for k in range(4):
                b.add("emails", rm=r, customer=r * 100 + k, email=9000 + r * 100 + k)
        b.staff_emails = {7000 + r: r + 1 for r in range(N)}
        b.t["emails"][0]["email"] = contact_email  # RM 0's first customer (or its decision maker)
        for k in range(unrelated_sharers):  # RM 0's customers on one private mailbox with RM 1's
            b.t["emails"][1 + k]["email"] = 8888
            b.t["emails"][4 + k]["email"] = 8888
        if linked:
            b.links = {
                (min(a, c), max(a, c))
                for a in (1, 2, 3, 100, 101, 102)
                for c in (1, 2, 3, 100, 101, 102)
                if a != c
            }
        return b

    own = bank(7000)  # RM 0's own work e-mail registered on a customer
    assert fired(own, "shared_email") == (True, False)
    ev = evaluate(own.build(), {}, only=["shared_email"])
    assert (
        ev.results[0].rule.evidence(own.build(), ev.results[0].params, 0)[0]["label"]
        == "客户电子邮箱与本人登记邮箱相同"
    )
    assert "本行员工" in ev.results[0].rule.explain(ev.results[0].reading, 0, 0.0, ev.results[0].params)
    # a colleague's mailbox (RM 9's) on RM 0's customer is the colleague's to explain
    assert fired(bank(7009), "shared_email") == (False, True)
    ev = evaluate(bank(7009).build(), {}, only=["shared_email"])
    assert np.flatnonzero(ev.results[0].fired).tolist() == [9]
    assert (
        fired(bank(9999, unrelated_sharers=3), "shared_email")[0] is True
    )  # one mailbox, unrelated customers
    # near misses: no staff mailbox; the same sharing within a linked family; the phone rule sees none of it
    assert fired(bank(9999), "shared_email")[0] is False
    assert fired(bank(9999, unrelated_sharers=3, linked=True), "shared_email")[0] is False
    assert fired(own, "shared_contact")[0] is False
    # an admin can turn the staff match down: weight 1 puts one customer under the floor of 3
    ev = evaluate(own.build(), {"shared_email": {"staff_weight": 1.0}}, only=["shared_email"])
    assert not ev.results[0].fired[0]


def test_email_key_normalises_addresses():
    from server.conduct.data import email_key

    assert email_key(" Zhang.Wei+bank@Mail.CN ") == email_key("zhang.wei@mail.cn") == "zhang.wei@mail.cn"
    assert email_key("zhangwei@mail.cn") != email_key("zhang.wei@mail.cn")
    assert email_key("not-an-address") == ""


def test_related_transfer():
    """RM 0's own phone is registered by an individual customer (a relative using it), who is linked
    to a firm (RM 5's customer): pool claims RM 0 won and business RM 0 booked on that firm are
    business steered to a related firm."""
    firm, relative, other_firm = 501, 500, 502

    def bank(
        *, won: int, entries: int, phone_of_relative: int = 13800000000, firm_is_corporate: bool = True
    ) -> Bank:
        b = Bank()
        b.staff_phones = {13800000000 + r: r + 1 for r in range(N)}
        for r in range(N):
            for k in range(3):
                b.add("phones", rm=r, customer=r * 100 + k + 1000, phone=13900000000 + r * 100 + k)
        b.add("phones", rm=5, customer=relative, phone=phone_of_relative)
        b.links = {(relative, firm)}
        b.corporate = {firm, other_firm} if firm_is_corporate else {other_firm}
        for r in range(N):  # everyone wins a few claims for unrelated firms and books on them
            b.add("claims", rm=r, ts=at(AS_OF - timedelta(days=20), 10), won=True, customer=other_firm)
            b.sale(r, AS_OF - timedelta(days=15), 300_000_00, customer=other_firm)
        for k in range(won):
            b.add("claims", rm=0, ts=at(AS_OF - timedelta(days=10 + 7 * k), 10), won=True, customer=firm)
        for k in range(entries):
            b.sale(0, AS_OF - timedelta(days=5 + 9 * k), 800_000_00, customer=firm)
        return b

    hit = bank(won=2, entries=1)
    assert fired(hit, "related_transfer") == (True, False)
    ev = evaluate(hit.build(), {}, only=["related_transfer"])
    res = ev.results[0]
    assert res.reading.value[0] == 7  # 2 claims x 3 + 1 entry
    evidence = res.rule.evidence(hit.build(), res.params, 0)
    assert [e["type"] for e in evidence] == ["customer", "opportunity", "opportunity", "ledger"]
    assert evidence[0]["customer_id"] == firm
    assert "关联企业" in res.rule.explain(res.reading, 0, 0.0, res.params)
    # the relative in RM 5's book carries RM 0's own phone: RM 0 explains it, RM 5 does not
    assert fired(hit, "shared_contact") == (True, False)
    # one won claim for the related firm is a conflict of interest on its own; so are three entries
    assert fired(bank(won=1, entries=0), "related_transfer") == (True, False)
    assert fired(bank(won=0, entries=3), "related_transfer") == (True, False)
    # near misses: two entries only; the relative's number is not the RM's; the linked party is no firm
    assert fired(bank(won=0, entries=2), "related_transfer")[0] is False
    assert fired(bank(won=2, entries=1, phone_of_relative=13800000099), "related_transfer")[0] is False
    assert fired(bank(won=2, entries=1, firm_is_corporate=False), "related_transfer")[0] is False
    # a claim lost, not won, moved nothing
    lost = bank(won=0, entries=0)
    lost.add("claims", rm=0, ts=at(AS_OF - timedelta(days=3), 10), won=False, customer=firm)
    assert fired(lost, "related_transfer")[0] is False
    # tunable: with the floor at 8 the same RM is not flagged
    ev = evaluate(hit.build(), {"related_transfer": {"min": 8}}, only=["related_transfer"])
    assert not ev.results[0].fired[0]
