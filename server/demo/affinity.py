"""Product affinities of the demo bank, so its holdings have the structure a real bank's have and
the next-best-product evaluation measures something.

How a customer's products are drawn (see `ProductDraw`):
1. Base weight: the product category's share of the bank's book (server/demo/org.py).
2. Segment: multiplied by the customer's segment affinities — a corporate by its industry section
   (manufacturers use working-capital loans and factoring, traders acceptances, builders fixed-asset
   loans, public bodies term deposits and payroll) and its size (large and medium firms payroll,
   cash pooling, group insurance; small and micro firms inclusive SME loans); an individual by life
   stage (under 35: credit card, consumer loans, index funds; 35-54: mortgage, critical illness
   cover; 55 and over: certificates of deposit, annuities, pension funds) and tier (VIP and high:
   the R3 wealth product, certificates of deposit).
3. Sequence: each product drawn multiplies its partners' weights for the next draw (payroll leads to
   cash pooling and group insurance, a mortgage to critical illness cover and a credit card, a money
   fund to a bond fund...). The products' opening dates follow the order of the draws, so the later
   purchase depends on the earlier ones — what a recommender can learn.
4. Entry product: a company's first product is its settlement account (单位活期存款: no corporate
   business without a basic deposit account), so the next purchase is never "the account everyone has".
5. Ladders: customers climb typical ladders, in order — a small firm its settlement account, an
   inclusive SME loan, a corporate card, then cash-management wealth; a manufacturer a
   working-capital loan, factoring, an import L/C, then FX; a young person a credit card, a consumer
   loan, then funds; a family a mortgage, critical illness cover, then a card... Each customer
   follows one ladder of their segment (`LADDERS`, chosen by `SECTION_LADDERS`, `SIZE_LADDERS`,
   `STAGE_LADDERS`, `TIER_LADDERS`); each later purchase is the next rung they do not hold with
   probability `FOLLOW`, otherwise a draw by the weights above. Banks see this in their data: the
   next product follows from the last one more than from the bank's overall mix.
6. Suitability: an individual never holds a product whose risk level (R1..R5) is above their risk
   appetite (C1..C5); a customer without a recorded appetite only R1-R2 products."""

from __future__ import annotations

import bisect
from collections.abc import Callable

CORPORATE_SECTION: dict[str, dict[str, float]] = {
    "C": {"LN-WC": 2.5, "TF-FACTOR": 2.0, "TF-LC": 1.6, "LN-FA": 1.5, "FX-SPOT": 1.5},
    "F": {"TF-BA": 2.5, "TF-FACTOR": 2.0, "LN-WC": 1.5, "CC-CORP": 1.5},
    "E": {"LN-FA": 2.5, "DEP-AGR": 2.0, "TF-BA": 1.5},
    "K": {"LN-FA": 2.5, "DEP-AGR": 2.0, "DEP-TD": 1.5},
    "I": {"WM-CASH": 2.0, "FD-MMF": 2.0, "DEP-AGR": 1.5, "LN-SME": 1.5},
    "M": {"WM-CASH": 2.0, "FD-MMF": 2.0, "LN-SME": 1.5},
    "G": {"LN-FA": 1.5, "CC-CORP": 2.0, "FX-SPOT": 1.3},
    "S": {"DEP-TD": 3.0, "PAY-PAYROLL": 2.5, "LN-WC": 0.1, "TF-FACTOR": 0.1, "TF-BA": 0.1},
    "P": {"DEP-TD": 2.5, "PAY-PAYROLL": 2.5, "INS-GROUP": 1.5},
    "Q": {"DEP-TD": 2.0, "PAY-PAYROLL": 2.5, "INS-GROUP": 1.5},
}
CORPORATE_SIZE: dict[str, dict[str, float]] = {
    "large": {"PAY-PAYROLL": 2.5, "CM-POOL": 3.0, "INS-GROUP": 2.0, "FX-FWD": 2.0, "LN-SME": 0.1},
    "medium": {"PAY-PAYROLL": 2.0, "CM-POOL": 1.8, "INS-GROUP": 1.5, "FX-FWD": 1.3, "LN-SME": 0.5},
    "small": {"LN-SME": 3.0, "CC-CORP": 1.5, "CM-POOL": 0.2, "FX-FWD": 0.3},
    "micro": {"LN-SME": 4.0, "CC-CORP": 2.0, "CM-POOL": 0.05, "FX-FWD": 0.1, "INS-GROUP": 0.2},
}
LIFE_STAGE: dict[str, dict[str, float]] = {
    "young": {
        "CC-PLAT": 3.0,
        "LN-CONS": 2.5,
        "FD-IDX300": 2.0,
        "FD-MMF": 1.5,
        "DEP-LCD": 0.3,
        "INS-ANN": 0.3,
    },
    "family": {"LN-MTG": 3.0, "INS-CI": 2.5, "WM-FIX180": 1.5, "LN-BIZ": 1.5},
    "senior": {
        "DEP-LCD": 3.0,
        "DEP-STD": 2.0,
        "INS-ANN": 2.5,
        "FD-PENSION": 2.5,
        "CC-PLAT": 0.3,
        "LN-CONS": 0.2,
        "FD-IDX300": 0.2,
        "LN-MTG": 0.3,
    },
}
TIER: dict[str, dict[str, float]] = {
    "vip": {"WM-PLUS": 3.0, "DEP-LCD": 2.0, "FX-SPOT": 1.5},
    "high": {"WM-PLUS": 2.0, "DEP-LCD": 1.5},
}
# Drawing the key multiplies the partners' weights for the customer's later draws.
PARTNERS: dict[str, dict[str, float]] = {
    "PAY-PAYROLL": {"CM-POOL": 4.0, "INS-GROUP": 4.0, "CC-CORP": 2.5},
    "LN-WC": {"TF-FACTOR": 4.0, "TF-BA": 2.5},
    "TF-LC": {"FX-SPOT": 4.0, "FX-FWD": 4.0},
    "FX-SPOT": {"FX-FWD": 4.0, "TF-LC": 2.5},
    "CM-POOL": {"DEP-AGR": 4.0},
    "LN-FA": {"DEP-AGR": 2.0, "TF-BA": 2.0},
    "LN-MTG": {"INS-CI": 4.0, "CC-PLAT": 3.0},
    "FD-MMF": {"FD-BOND": 4.0, "WM-CASH": 2.5},
    "WM-CASH": {"WM-FIX180": 4.0},
    "WM-FIX180": {"WM-PLUS": 3.5, "FD-BOND": 2.0},
    "DEP-STD": {"DEP-LCD": 4.0},
    "CC-PLAT": {"LN-CONS": 3.0},
    "INS-CI": {"INS-ANN": 2.5},
    "LN-SME": {"CC-CORP": 2.5, "DEP-CA": 2.0},
}

# Typical ladders: the order in which a customer comes to hold products (a firm's starts with its
# settlement account, see ENTRY_PRODUCT).
LADDERS: dict[str, tuple[str, ...]] = {
    # a small firm: the account, the inclusive loan it came for, a card, then its idle cash
    "small_firm": ("DEP-CA", "LN-SME", "CC-CORP", "WM-CASH", "FD-MMF"),
    # a producer: working capital, then receivables, imports of inputs, then FX hedging
    "producer": ("DEP-CA", "LN-WC", "TF-FACTOR", "TF-LC", "FX-SPOT", "FX-FWD"),
    # a trader: acceptances to pay suppliers, factoring of receivables, then a credit line
    "trader": ("DEP-CA", "TF-BA", "TF-FACTOR", "LN-WC", "CC-CORP"),
    # a builder or developer: the project loan, acceptances, then the proceeds parked
    "builder": ("DEP-CA", "LN-FA", "TF-BA", "DEP-AGR", "DEP-TD"),
    # an employer: payroll, its staff's cover, then pooling the group's cash
    "employer": ("DEP-CA", "PAY-PAYROLL", "INS-GROUP", "CM-POOL", "DEP-AGR", "FX-FWD"),
    # a public body: payroll, term deposits of its budget, staff cover, official cards
    "public": ("DEP-CA", "PAY-PAYROLL", "DEP-TD", "INS-GROUP", "CC-CORP"),
    # a firm with idle cash (tech, services): wealth products, then an agreement deposit
    "treasury": ("DEP-CA", "WM-CASH", "FD-MMF", "DEP-AGR", "DEP-NOTICE", "FD-BOND"),
    # an importer or carrier: FX first, then L/Cs and forwards
    "trade": ("DEP-CA", "FX-SPOT", "TF-LC", "FX-FWD", "LN-WC"),
    # a young person: a credit card, a consumer loan, then a first fund
    "starter": ("CC-PLAT", "LN-CONS", "FD-MMF", "FD-IDX300", "WM-CASH"),
    # a family: the mortgage, cover for the breadwinner, a card, then savings
    "home": ("LN-MTG", "INS-CI", "CC-PLAT", "WM-FIX180", "INS-ANN"),
    # a business owner: the business loan, then the firm's surplus in deposits and wealth
    "owner": ("LN-BIZ", "DEP-STD", "WM-CASH", "WM-FIX180", "INS-CI"),
    # a saver: a term deposit, then certificates of deposit, an annuity, a pension fund
    "saver": ("DEP-STD", "DEP-LCD", "INS-ANN", "FD-PENSION", "DEP-NOTICE"),
    # wealth: cash management, fixed income, then the R3 product and bond funds
    "wealth": ("WM-CASH", "WM-FIX180", "WM-PLUS", "FD-BOND", "DEP-LCD"),
}
SECTION_LADDERS: dict[str, dict[str, float]] = {
    "C": {"producer": 3.0, "trade": 1.0},
    "F": {"trader": 3.0, "trade": 1.0},
    "E": {"builder": 3.0},
    "K": {"builder": 3.0, "treasury": 1.0},
    "I": {"treasury": 3.0},
    "M": {"treasury": 3.0},
    "G": {"trade": 2.0, "producer": 1.0},
    "S": {"public": 4.0},
    "P": {"public": 3.0},
    "Q": {"public": 3.0},
}
SIZE_LADDERS: dict[str, dict[str, float]] = {
    "large": {"employer": 2.0},
    "medium": {"employer": 1.0},
    "small": {"small_firm": 2.0},
    "micro": {"small_firm": 4.0},
}
STAGE_LADDERS: dict[str, dict[str, float]] = {
    "young": {"starter": 3.0, "wealth": 0.5},
    "family": {"home": 3.0, "owner": 1.0, "saver": 0.5},
    "senior": {"saver": 3.0, "wealth": 0.5},
}
TIER_LADDERS: dict[str, dict[str, float]] = {"vip": {"wealth": 3.0}, "high": {"wealth": 1.5}}
FOLLOW = 0.5  # the share of later purchases that are the next rung of the customer's ladder

# A customer's products follow needs more than the bank's overall mix: the mix's weights are
# flattened (square root) and the affinities above sharpened (squared).
BASE_EXPONENT = 0.5
AFFINITY_EXPONENT = 2.0
ENTRY_PRODUCT = "DEP-CA"
REPEAT = 0.1  # a product drawn is rarely drawn again (a repeat draw is skipped by the caller)


def life_stage(age: int) -> str:
    return "young" if age < 35 else "family" if age < 55 else "senior"


def _risk(level: str | None) -> int:
    return int(level[1:]) if level else 0


class ProductDraw:
    """Weighted draws without replacement over one segment's products, for one customer."""

    def __init__(
        self,
        items: list[dict],
        base: list[float],
        *,
        corporate: bool,
        industry: str | None = None,
        size: str | None = None,
        age: int | None = None,
        tier: str | None = None,
        appetite: str | None = None,
    ) -> None:
        limit = _risk(appetite) if appetite else 2
        factors: list[dict[str, float]] = []
        ladders: dict[str, float] = {}
        if corporate:
            factors.append(CORPORATE_SECTION.get((industry or "")[:1], {}))
            factors.append(CORPORATE_SIZE.get(size or "", {}))
            for fit in (SECTION_LADDERS.get((industry or "")[:1], {}), SIZE_LADDERS.get(size or "", {})):
                for name, w in fit.items():
                    ladders[name] = ladders.get(name, 0.0) + w
        else:
            stage = life_stage(age if age is not None else 40)
            factors.append(LIFE_STAGE[stage])
            factors.append(TIER.get(tier or "", {}))
            for fit in (STAGE_LADDERS[stage], TIER_LADDERS.get(tier or "", {})):
                for name, w in fit.items():
                    ladders[name] = ladders.get(name, 0.0) + w
        self.ladders = sorted(ladders.items())
        self.rungs: list[dict] | None = None  # the customer's ladder, chosen at the first draw
        self.held: set[str] = set()
        self.items = items
        self.entry = next((p for p in items if p["code"] == ENTRY_PRODUCT), None) if corporate else None
        self.weights = []
        for p, w in zip(items, base, strict=True):
            w = w**BASE_EXPONENT
            for f in factors:
                w *= f.get(p["code"], 1.0) ** AFFINITY_EXPONENT
            if _risk(p.get("risk_level")) > limit:
                w = 0.0
            self.weights.append(w)
        self.allowed = {p["code"] for p, w in zip(items, self.weights, strict=True) if w > 0}

    def _ladder(self, rand: Callable[[], float]) -> list[dict]:
        by_code = {p["code"]: p for p in self.items}
        if not self.ladders:
            return []
        total = sum(w for _, w in self.ladders)
        x = rand() * total
        chosen = self.ladders[-1][0]
        for name, w in self.ladders:
            x -= w
            if x < 0:
                chosen = name
                break
        return [by_code[c] for c in LADDERS[chosen] if c in by_code and c in self.allowed]

    def draw(self, rand: Callable[[], float]) -> dict:
        """One product. A product drawn keeps a tenth of its weight (a repeat is skipped by the
        caller, as the demo's draw loop always did). A company's first draw is its account; a
        person's and every later one is the next rung of their ladder with probability FOLLOW, otherwise
        a draw by weight."""
        if self.rungs is None:
            self.rungs = self._ladder(rand)
        if self.entry is not None:
            entry, self.entry = self.entry, None
            return self._take(entry)
        if rand() < FOLLOW:
            rung = next((p for p in self.rungs if p["code"] not in self.held), None)
            if rung is not None:
                return self._take(rung)
        cum: list[float] = []
        total = 0.0
        for w in self.weights:
            total += w
            cum.append(total)
        return self._take(self.items[min(bisect.bisect(cum, rand() * total), len(self.items) - 1)])

    def _take(self, p: dict) -> dict:
        self.held.add(p["code"])
        self._boost(p)
        return p

    def _boost(self, p: dict) -> None:
        for code, factor in PARTNERS.get(p["code"], {}).items():
            for i, q in enumerate(self.items):
                if q["code"] == code:
                    self.weights[i] *= factor**AFFINITY_EXPONENT
        for i, q in enumerate(self.items):
            if q["code"] == p["code"]:
                self.weights[i] *= REPEAT
