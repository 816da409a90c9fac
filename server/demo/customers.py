"""The customer book: whose customers they are (owners in proportion to the personas' book weights,
handovers), and what they hold."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

from server.demo.affinity import ProductDraw
from server.demo.base import (
    CATEGORY_YIELD,
    CORPORATE_SCALE,
    INDIVIDUAL_SCALE,
    PERSONAS,
    SIZE_TIER,
    SIZES,
    TERM_DAYS,
    TIERS,
    Rm,
    local_dt,
)
from server.demo.catalog import product_minimum_cents
from server.demo.profiles import ProfileBuilder
from server.org.models import Persona
from server.reference import REGIONS


class CustomerBuilder(ProfileBuilder):
    def _owner_schedule(self, total: int) -> list[int]:
        """Owners (indexes into self.rms) for one block of customers, in exact proportion to the
        personas' book weights; every RM owns at least one customer."""
        block = max(1, min(total, 1000))
        weights = [PERSONAS[rm.persona].book_weight for rm in self.rms]
        scale = block / sum(weights)
        quotas = [w * scale for w in weights]
        counts = [max(1, int(q)) for q in quotas]
        by_remainder = sorted(range(len(quotas)), key=lambda i: quotas[i] - int(quotas[i]), reverse=True)
        i = 0
        while sum(counts) < block:
            counts[by_remainder[i % len(counts)]] += 1
            i += 1
        while sum(counts) > block:  # tiny banks: take back from the biggest books
            biggest = max(range(len(counts)), key=counts.__getitem__)
            counts[biggest] -= 1
        schedule = [rm for rm, n in enumerate(counts) for _ in range(n)]
        self.rng.shuffle(schedule)
        return schedule

    def _customers(self, schedule: list[int], start: int, end: int) -> dict[str, list[dict[str, Any]]]:
        rng = self.rng
        rand = rng.random
        choice = self.pick
        today = self.today
        today_ord = today.toordinal()
        base_id = self.code_base["customer"]
        region_codes = list(REGIONS)
        rows: dict[str, list[dict[str, Any]]] = {
            "customer": [],
            "corporate_profile": [],
            "individual_profile": [],
            "contact": [],
            "customer_event": [],
            "customer_link": [],
            "customer_tag": [],
            "ownership_change": [],
            "holding": [],
        }
        cust_rows = rows["customer"]
        block = len(schedule)
        for n in range(start, end):
            if n % block == 0 or n == start:
                rng.shuffle(schedule)
            rm = self.rms[schedule[n % block]]
            spec = PERSONAS[rm.persona]
            cid = base_id + n + 1
            region = rm.region_code if rand() < 0.85 else choice(region_codes)
            center = REGIONS[region]
            lat = round(center["lat"] + rng.gauss(0, 0.045), 6)
            lng = round(center["lng"] + rng.gauss(0, 0.055), 6)
            corporate = rand() < spec.corporate_share
            tags: list[str] = []
            if corporate:
                size = rng.choices(SIZES, weights=spec.size_mix)[0]
                tier = SIZE_TIER[size] if rand() < 0.8 else choice(TIERS[1:])
                name, short, name_initials, industry, ownership, founded = self._company(region, size)
                row = {
                    "id": cid,
                    "kind": "corporate",
                    "name": name,
                    "name_initials": name_initials,
                    "industry_code": industry,
                    "size": size,
                    "ownership": ownership,
                    "gender": None,
                    "tier": tier,
                }
                scale = CORPORATE_SCALE[size] * math.exp(rng.gauss(0, 0.5))
                since = max(founded.toordinal(), today_ord - 365 * 15)
                self._corporate_details(rows, cid, short, size, industry, ownership, region, founded, tags)
            else:
                tier = rng.choices(TIERS, weights=spec.tier_mix)[0]
                gender = "M" if rand() < 0.5 else "F"
                surname, given = self._person_name(gender)
                name = surname + given
                born = date.fromordinal(today_ord - self.between(22 * 365, 75 * 365))
                row = {
                    "id": cid,
                    "kind": "individual",
                    "name": name,
                    "name_initials": self.initials.join(surname, given),
                    "industry_code": None,
                    "size": None,
                    "ownership": None,
                    "gender": gender,
                    "tier": tier,
                }
                scale = INDIVIDUAL_SCALE[tier] * math.exp(rng.gauss(0, 0.6))
                since = max(born.toordinal() + 20 * 365, today_ord - 365 * 12)
                self._individual_details(rows, cid, gender, born, tier, region, tags)
            # A newcomer's book is mostly handed over; others won most of theirs themselves.
            created = date.fromordinal(self.between(min(since, today_ord - 1), today_ord - 1))
            created_at = local_dt(created, self.between(9, 17), self.between(0, 59))
            row.update(
                {
                    "owner_id": rm.id,
                    "branch_id": rm.branch_id,
                    "region_code": region,
                    "region_name": center["name"],
                    "phone": self._mobile(),
                    "latitude": lat,
                    "longitude": lng,
                    "version": 1,
                    "created_at": created_at,
                    "updated_at": min(created_at + timedelta(days=self.between(0, 400)), self.now),
                }
            )
            cust_rows.append(row)
            self._ownership(rows, cid, rm, created_at)
            draw_profile = (
                {"industry": row["industry_code"], "size": row["size"]}
                if corporate
                else {
                    "age": (today_ord - born.toordinal()) // 365,
                    "tier": tier,
                    "appetite": rows["individual_profile"][-1].get("risk_appetite"),
                }
            )
            self._holdings(rows, cid, rm, corporate, scale, created, tags, draw_profile)
            if created.toordinal() > today_ord - 180:
                tags.append("新客户")
            if rand() < (0.18 if rm.persona in (Persona.super, Persona.excellent) else 0.06):
                tags.append("长期未联系")  # too many customers, too little time
            for tag in set(tags):
                rows["customer_tag"].append({"customer_id": cid, "tag_id": self.tag_ids[tag]})
            rm.customers += 1
            if corporate:
                self.recent_corporates.append((cid, name, region))
            else:
                self.recent_people.append(cid)
        return rows

    def _ownership(
        self, rows: dict[str, list[dict[str, Any]]], cid: int, rm: Rm, created_at: datetime
    ) -> None:
        """Who owned the customer when: RMs hired after the customer arrived took it over."""
        hired_at = local_dt(rm.hire_date, 9, 0)
        if created_at < hired_at or self.rng.random() < 0.03:
            previous = self.pick(self.rms)
            handover = max(created_at, hired_at) + timedelta(days=self.between(1, 60))
            handover = min(handover, self.now)
            if previous.id != rm.id:
                rows["ownership_change"].append(
                    {
                        "customer_id": cid,
                        "rm_id": previous.id,
                        "started_at": created_at,
                        "ended_at": handover,
                        "reason": "开户建档",
                    }
                )
                rows["ownership_change"].append(
                    {
                        "customer_id": cid,
                        "rm_id": rm.id,
                        "started_at": handover,
                        "ended_at": None,
                        "reason": "客户经理调岗移交",
                    }
                )
                return
        rows["ownership_change"].append(
            {
                "customer_id": cid,
                "rm_id": rm.id,
                "started_at": created_at,
                "ended_at": None,
                "reason": "开户建档",
            }
        )

    def _holdings(
        self,
        rows: dict[str, list[dict[str, Any]]],
        cid: int,
        rm: Rm,
        corporate: bool,
        scale: float,
        created: date,
        tags: list[str],
        draw_profile: dict[str, Any],
    ) -> None:
        rng = self.rng
        items, cum = self.segment_products["corporate" if corporate else "individual"]
        k = 1 + min(4, int(rng.expovariate(1.0) * (1.6 if scale > 1e6 else 0.8))) + (1 if corporate else 0)
        chosen: dict[int, dict] = {}
        # Segment and life-stage affinities, and each product raising its partners' odds
        # (server/demo/affinity.py); opening dates follow the order of the draws.
        draws = ProductDraw(
            items,
            [b - a for a, b in zip([0.0, *cum[:-1]], cum, strict=True)],
            corporate=corporate,
            **draw_profile,
        )
        for _ in range(k + 2):
            p = draws.draw(rng.random)
            chosen.setdefault(p["id"], p)
            if len(chosen) >= k:
                break
        today_ord = self.today.toordinal()
        start = created.toordinal()
        mine: list[tuple[dict, dict[str, Any], tuple[int, int, int]]] = []  # product, row, amounts
        opened_days: list[int] = []
        # The first product is what made them a customer, opened the day they joined.
        opened_days.append(min(start, today_ord - 1))
        for _p in list(chosen.values())[1:]:
            opened_days.append(self.between(min(start, today_ord - 1), today_ord - 1))
        opened_days.sort()
        for p, opened_day in zip(chosen.values(), opened_days, strict=True):
            category = p["category"]
            amount = int(scale * math.exp(rng.gauss(0, 0.5)) * 100)
            opened = date.fromordinal(opened_day)
            term = TERM_DAYS.get(p["code"])
            matures = opened + timedelta(days=self.between(*term)) if term else None
            status = "matured" if matures is not None and matures <= self.today else "active"
            balance = loan = 0
            if category == "loan" or p["code"] in ("TF-FACTOR",):
                loan = amount * 2 if corporate else amount
            elif category in ("deposit", "wealth", "fund", "insurance", "cash_management"):
                # Never below what the product takes (大额存单: 20万元起存).
                balance = max(amount, product_minimum_cents(p, corporate=corporate))
            elif category == "credit_card":
                loan = amount // 50
            if p.get("max_cents"):
                loan = min(loan, p["max_cents"])  # 普惠小微快贷: 最高500万元
            fee = int((balance + loan + (amount if balance == loan == 0 else 0)) * CATEGORY_YIELD[category])
            row = {
                "customer_id": cid,
                "product_id": p["id"],
                "balance_cents": balance,
                "loan_balance_cents": loan,
                "fee_income_cents": fee,
                "opened_on": opened,
                "matures_on": matures,
                "status": status,
            }
            mine.append((p, row, (balance, loan, fee)))
        if all(row["status"] == "matured" for _, row, _ in mine):
            # A customer of the bank holds something: the last product rolled over on maturity (到期续作).
            _, row, _ = mine[-1]
            length = row["matures_on"] - row["opened_on"]
            while row["matures_on"] <= self.today:
                row["opened_on"], row["matures_on"] = row["matures_on"], row["matures_on"] + length
            row["status"] = "active"
        holdings = rows["holding"]
        for p, row, (balance, loan, fee) in mine:
            category = p["category"]
            matures = row["matures_on"]
            if row["status"] == "matured":
                balance = loan = 0
                row["balance_cents"] = row["loan_balance_cents"] = 0
            holdings.append(row)
            rm.balance_cents += balance
            rm.loan_cents += loan
            rm.fee_cents += fee
            if row["status"] == "active" and matures is not None and matures.toordinal() - today_ord <= 60:
                tags.append("资金即将到期")
            if category in ("wealth", "fund"):
                tags.append("理财偏好")
            if p["code"] == "LN-MTG":
                tags.append("有房贷")
            if p["code"] == "PAY-PAYROLL":
                tags.append("代发工资客户")
            # Reservoir sample: every holding has the same chance to feed the ledger.
            rm.seen += 1
            if len(rm.sample) < 80:
                rm.sample.append((cid, p["id"]))
            else:
                j = int(self.rand() * rm.seen)
                if j < 80:
                    rm.sample[j] = (cid, p["id"])
        if not corporate and scale > 6e6:
            tags.append("高净值客户")
