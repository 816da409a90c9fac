"""Who a customer is: company names, credit codes and ID numbers that validate, contacts, events,
supply-chain, family and colleague links."""

from __future__ import annotations

import bisect
import math
from datetime import date, timedelta
from typing import Any

from server.demo import industries, naming, places, traits
from server.demo.base import MOBILE_PREFIXES, TIER_INCOME, BuilderBase, cumulative
from server.reference import INDUSTRIES, REGIONS
from server.validators import id_check_char, uscc_check_char

_INDUSTRY_CODES = [c for c in INDUSTRIES if c in industries.INDUSTRY_WORDS]
_INDUSTRY_CUM = cumulative(industries.INDUSTRY_WEIGHTS.get(c, 1) for c in _INDUSTRY_CODES)


class ProfileBuilder(BuilderBase):
    def _mobile(self) -> str:
        return self.pick(MOBILE_PREFIXES) + f"{int(self.rand() * 10**8):08d}"

    def _credit_code(self, region: str, ownership: str, serial: int) -> str:
        """GB 32100: registration authority + category, GB/T 2260 region, a GB 11714 organisation
        code (8 characters + its check character), then the check character."""
        prefix = "11" if ownership == "government" else "91"
        body8 = f"{(serial * 7_919_123 + self.seed * 104_729) % 10**8:08d}"
        total = sum(int(c) * w for c, w in zip(body8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
        check = 11 - total % 11
        org_check = "X" if check == 10 else "0" if check == 11 else str(check)
        first17 = prefix + region + body8 + org_check
        return first17 + uscc_check_char(first17)

    def _company(self, region: str, size: str) -> tuple[str, str, str, str, str, date]:
        rng = self.rng
        city = REGIONS[region]["name"].rstrip("市")
        roll = rng.random()
        parts: tuple[str, ...]
        for _attempt in range(8):
            if roll < 0.03:
                industry, body = self.pick(industries.GOVERNMENT_BODIES)
                parts = (city, body)
                ownership, short = "government", body.removeprefix("市")
            else:
                industry = _INDUSTRY_CODES[bisect.bisect(_INDUSTRY_CUM, self.rand() * _INDUSTRY_CUM[-1])]
                word = self.pick(industries.INDUSTRY_WORDS[industry])
                trade = self.pick(naming.TRADE_FIRST) + self.pick(naming.TRADE_SECOND)
                if roll < 0.08 and size in ("large", "medium"):
                    ownership = "central_soe"
                    stem = self.pick(naming.CENTRAL_SOE_STEM)
                    parts = ("中", stem, word, "集团", city, "有限公司")
                    short = f"中{stem}{word[:2]}"
                elif roll < 0.18 and size != "micro":
                    ownership = "local_soe"
                    stem = self.pick(naming.LOCAL_SOE_STEM) if rng.random() < 0.5 else trade
                    parts = (city, "市", stem, word, "集团有限公司")
                    short = f"{city}{stem}"
                elif roll < 0.25:
                    ownership = "foreign"
                    foreign = self.pick(naming.FOREIGN_TRADE)
                    parts = (foreign, "（", city, "）", word, "有限公司")
                    short = f"{foreign}{word[:2]}"
                else:
                    ownership = "private"
                    suffix = (
                        "股份有限公司" if size in ("large", "medium") and rng.random() < 0.5 else "有限公司"
                    )
                    parts = (city, trade, word, suffix)
                    short = f"{trade}{word[:2]}"
            name = "".join(parts)
            if name not in self.names_used:
                break
            roll = rng.random() * 0.97 + 0.03 if _attempt < 6 else 0.5  # a private name is almost always free
        else:  # practically never: keep names unique with a branch-office suffix
            parts = (*parts[:-1], f"第{len(self.names_used)}分公司")
            name = "".join(parts)
        self.names_used.add(name)
        name_initials = self.initials.join(*[p for p in parts if p not in ("（", "）")])
        age_years = {"large": (12, 40), "medium": (6, 30), "small": (3, 20), "micro": (1, 10)}[size]
        founded = self.today - timedelta(days=self.between(age_years[0] * 365, age_years[1] * 365))
        return name, short, name_initials, industry, ownership, founded

    def _corporate_details(
        self,
        rows: dict[str, list[dict[str, Any]]],
        cid: int,
        short_name: str,
        size: str,
        industry: str,
        ownership: str,
        region: str,
        founded: date,
        tags: list[str],
    ) -> None:
        rng = self.rng
        rand = rng.random
        employees = {
            "large": (1000, 30000),
            "medium": (100, 999),
            "small": (10, 99),
            "micro": (2, 9),
        }[size]
        revenue_yuan = {"large": (4e8, 3e10), "medium": (2e7, 4e8), "small": (3e6, 2e7), "micro": (2e5, 3e6)}[
            size
        ]
        revenue = int(math.exp(rng.uniform(math.log(revenue_yuan[0]), math.log(revenue_yuan[1]))) * 100)
        capital = int(round(revenue * rng.uniform(0.05, 0.4) / 1_000_000_00) * 1_000_000_00) or 100_000_00
        scope = INDUSTRIES[industry]
        rows["corporate_profile"].append(
            {
                "customer_id": cid,
                "credit_code": self._credit_code(region, ownership, cid),
                "short_name": short_name[:32],
                "registered_capital_cents": capital,
                "revenue_cents": revenue,
                "employees": self.between(*employees),
                "founded_on": founded,
                "business_scope": f"{scope}相关业务；货物及技术进出口（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
                "main_products": scope,
                "address": f"{REGIONS[region]['name']}{self.pick('东南西北中')}{self.pick('湖山江河环海')}路{self.between(1, 999)}号",
            }
        )
        for title, role, influence in rng.sample(traits.CONTACT_ROLES, k=self.between(2, 4)):
            gender = "M" if rand() < 0.65 else "F"
            surname, given = self._person_name(gender)
            rows["contact"].append(
                {
                    "customer_id": cid,
                    "name": surname + given,
                    "title": title,
                    "role": role,
                    "influence": influence,
                    "preferences": self.pick(traits.CONTACT_PREFERENCES),
                    "phone": self._mobile(),
                }
            )
        events = rows["customer_event"]
        events.append(
            {
                "customer_id": cid,
                "occurred_on": founded,
                "kind": "founded",
                "title": "公司成立",
                "detail": None,
            }
        )
        span = (self.today - founded).days
        for kind, title in rng.sample(traits.CORPORATE_EVENTS, k=self.pick((0, 1, 1, 2, 3))):
            if span > 60:
                events.append(
                    {
                        "customer_id": cid,
                        "occurred_on": founded + timedelta(days=self.between(30, span)),
                        "kind": kind,
                        "title": title,
                        "detail": None,
                    }
                )
            if title.startswith("获评国家高新"):
                tags.append("高新技术企业")
            elif title.startswith("入选专精特新"):
                tags.append("专精特新")
        links = rows["customer_link"]
        if self.recent_corporates and rand() < 0.6:
            other, _, _ = self.pick(self.recent_corporates)
            kind = "supplier" if rand() < 0.5 else "buyer"
            links.append(
                {
                    "from_customer_id": cid,
                    "to_customer_id": other,
                    "to_name": None,
                    "kind": kind,
                    "label": self.pick(traits.SUPPLY_LABELS),
                }
            )
            if size == "large":
                tags.append("供应链核心企业")
        if rand() < 0.35:
            city = REGIONS[self.pick(list(REGIONS))]["name"].rstrip("市")
            trade = self.pick(naming.TRADE_FIRST) + self.pick(naming.TRADE_SECOND)
            word = self.pick(industries.INDUSTRY_WORDS[self.pick(list(industries.INDUSTRY_WORDS))])
            links.append(
                {
                    "from_customer_id": cid,
                    "to_customer_id": None,
                    "to_name": f"{city}{trade}{word}有限公司",
                    "kind": "supplier" if rand() < 0.5 else "buyer",
                    "label": self.pick(traits.SUPPLY_LABELS),
                }
            )
        if industry in ("F51", "G58") or (industry.startswith("C") and rand() < 0.2):
            tags.append("外贸企业")
        if rand() < 0.03 and size in ("small", "micro"):
            tags.append("授信关注")
        if rand() < 0.04:
            tags.append("流失预警")

    def _id_number(self, region: str, born: date, gender: str) -> str:
        rng = self.rng
        districts = places.DISTRICTS.get(region) or places.DISTRICTS["310000"]
        while True:
            district = (
                self.pick(districts)
                if rng.random() < 0.8
                else self.pick(places.DISTRICTS[self.pick(list(places.DISTRICTS))])
            )
            seq = int(self.rand() * 500) * 2 + (1 if gender == "M" else 0)  # odd 17th digit: male
            body = f"{district}{born:%Y%m%d}{seq:03d}"
            key = int(body)
            if key not in self.ids_issued:
                self.ids_issued.add(key)
                self.id_bodies.append(body)
                return body + id_check_char(body)

    def _individual_details(
        self,
        rows: dict[str, list[dict[str, Any]]],
        cid: int,
        gender: str,
        born: date,
        tier: str,
        region: str,
        tags: list[str],
    ) -> None:
        rng = self.rng
        rand = rng.random
        number = self._id_number(region, born, gender)
        age = (self.today - born).days // 365
        occupation, employer_kind = self.pick(traits.OCCUPATIONS)
        if age >= 60 and rand() < 0.7:
            occupation, employer_kind = "退休", "none"
        employer = None
        employer_id = None
        if employer_kind == "corporate" and self.recent_corporates:
            employer_id, employer, _ = self.pick(self.recent_corporates)
        elif employer_kind == "public":
            employer = REGIONS[region]["name"].rstrip("市") + self.pick(traits.PUBLIC_EMPLOYERS)
        low, high = TIER_INCOME[tier]
        rows["individual_profile"].append(
            {
                "customer_id": cid,
                "birth_date": born,
                "id_number_encrypted": self.sealer.seal(number),
                "id_number_digest": self.sealer.digest(number),
                "occupation": occupation,
                "employer": employer,
                "income_band": traits.INCOME_BANDS[self.between(low, high)],
                "risk_appetite": f"C{min(5, max(1, int(rng.gauss(3 if age < 50 else 2, 1))))}",
                "interests": rng.sample(traits.INTERESTS, k=self.between(1, 3)),
            }
        )
        events = rows["customer_event"]
        for kind, title, min_age, max_age in rng.sample(traits.LIFE_EVENTS, k=self.pick((0, 1, 1, 2))):
            at_age = self.between(min_age, max_age)
            if at_age <= age:
                when = born + timedelta(days=at_age * 365 + int(self.rand() * 365))
                if when < self.today:
                    events.append(
                        {
                            "customer_id": cid,
                            "occurred_on": when,
                            "kind": kind,
                            "title": title,
                            "detail": None,
                        }
                    )
        links = rows["customer_link"]
        if self.recent_people and rand() < 0.25:
            other = self.pick(self.recent_people)
            label = self.pick(("配偶", "父母", "子女", "兄弟姐妹"))
            links.append(
                {
                    "from_customer_id": cid,
                    "to_customer_id": other,
                    "to_name": None,
                    "kind": "family",
                    "label": label,
                }
            )
        if employer is not None:
            colleague = self.payroll_employers.get(employer)
            if colleague is not None and colleague != cid:
                links.append(
                    {
                        "from_customer_id": cid,
                        "to_customer_id": colleague,
                        "to_name": None,
                        "kind": "colleague",
                        "label": "同事",
                    }
                )
            if len(self.payroll_employers) > 5000:
                self.payroll_employers.clear()
            self.payroll_employers[employer] = cid
            if employer_id is not None:
                tags.append("代发工资客户")
        if self.recent_people and rand() < 0.08:
            other = self.pick(self.recent_people)
            links.append(
                {
                    "from_customer_id": cid,
                    "to_customer_id": other,
                    "to_name": None,
                    "kind": "referral",
                    "label": "转介绍",
                }
            )
        if tier == "vip":
            tags.append("贵宾客户")
        if tier == "mid" and rand() < 0.3:
            tags.append("潜力客户")
        if rand() < 0.35:
            tags.append("线上活跃")
        if 30 <= age <= 45 and rand() < 0.3:
            tags.append("子女教育规划")
        if 45 < age < 60 and rand() < 0.3:
            tags.append("养老规划")
