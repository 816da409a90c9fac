"""The performance ledger and the audit trail: monthly targets and results that follow each persona,
and the veteran's conduct signals (month-end bursts reversed next month, unlicensed sales, late-night
reveals from outside addresses)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from server.audit.models import AuditEntry
from server.db import table_of
from server.demo import catalog
from server.demo.base import PERSONAS, BuilderBase, Rm, local_dt, month_starts
from server.demo.writer import Writer
from server.org.models import Persona
from server.performance.models import PerformanceEntry, PerformanceTarget
from server.timeutil import month_key


class LedgerBuilder(BuilderBase):
    # -- performance and conduct ------------------------------------------------------------------

    def _achievement(self, rm: Rm, months_in_post: int) -> float:
        rng = self.rng
        if rm.persona == Persona.newcomer:
            return min(0.85, 0.3 + 0.08 * months_in_post + rng.uniform(-0.05, 0.08))
        if rm.persona == Persona.general:
            return rng.uniform(0.96, 1.1)
        if rm.persona == Persona.excellent:
            return rng.uniform(1.15, 1.4)
        if rm.persona == Persona.super:
            return rng.uniform(1.55, 2.1)
        # veteran: erratic — idle months, ordinary months and spikes
        roll = rng.random()
        if roll < 0.35:
            return rng.uniform(0.25, 0.7)
        if roll < 0.7:
            return rng.uniform(0.85, 1.2)
        return rng.uniform(1.7, 2.6)

    def _ledger_entry(
        self,
        rm: Rm,
        kind: str,
        amount: int,
        booked: date,
        *,
        late: bool = False,
        source: str = "core",
        source_ref: str | None = None,
        pick: tuple[int | None, int | None] | None = None,
    ) -> dict[str, Any]:
        customer_id, product_id = pick or (self.pick(rm.sample) if rm.sample else (None, None))
        hour = self.between(20, 23) if late else self.between(9, 17)
        return {
            "rm_id": rm.id,
            "booked_on": booked,
            "kind": kind,
            "amount_cents": amount,
            "customer_id": customer_id,
            "product_id": product_id,
            "source": source,
            "source_ref": source_ref,
            "created_at": local_dt(booked, hour, self.between(0, 59)),
        }

    def _performance(self, writer: Writer) -> None:
        """24 months of targets and ledger entries per RM (from the month they were hired)."""
        rng = self.rng
        months = month_starts(self.today, 24)
        targets: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        licensed = {
            q: [p["id"] for p in self.products if p["qualification"] == q] for q in catalog.QUALIFICATIONS
        }
        ref = 0
        for rm in self.rms:
            spec = PERSONAS[rm.persona]
            # Monthly targets follow the run rate of the RM's book, with a floor by grade.
            floor = {"初级": 20_000_00, "中级": 60_000_00, "高级": 120_000_00, "资深": 200_000_00}[spec.grade]
            monthly_revenue = max(floor, rm.fee_cents // 12)
            monthly_new = max(floor * 20, (rm.balance_cents + rm.loan_cents) // 60)
            hire_month = rm.hire_date.replace(day=1)
            for i, month in enumerate(months):
                if month < hire_month:
                    continue
                months_in_post = (month.year - hire_month.year) * 12 + month.month - hire_month.month
                growth = 0.92 ** ((len(months) - 1 - i) / 12)  # targets rose ~8% a year
                revenue_target = int(monthly_revenue * growth)
                new_target = int(monthly_new * growth)
                targets.append(
                    {
                        "rm_id": rm.id,
                        "month": month_key(month),
                        "revenue_target_cents": revenue_target,
                        "new_business_target_cents": new_target,
                        "new_customers_target": spec.new_customers_target,
                    }
                )
                last_day = calendar.monthrange(month.year, month.month)[1]
                days = [
                    month.replace(day=d)
                    for d in range(1, last_day + 1)
                    if rm.hire_date <= month.replace(day=d) < self.today
                ]
                if not days:
                    continue
                ratio = self._achievement(rm, months_in_post)
                # The current month is under way: results so far.
                share = len(days) / last_day if month == months[-1] else 1.0
                revenue = int(revenue_target * ratio * share)
                parts = self.between(3, 6)
                for _ in range(parts):
                    entries.append(self._ledger_entry(rm, "revenue", revenue // parts, self.pick(days)))
                new_business = int(new_target * ratio * share)
                if rm.persona == Persona.veteran and ratio > 1.6:
                    ref = self._veteran_spike(entries, rm, new_business, days, last_day, licensed, ref)
                else:
                    parts = self.between(1, 3)
                    for _ in range(parts):
                        entries.append(
                            self._ledger_entry(rm, "new_business", new_business // parts, self.pick(days))
                        )
                existing = int(new_business * rng.uniform(0.5, 1.5))
                entries.append(self._ledger_entry(rm, "existing_business", existing, self.pick(days)))
                for _ in range(round(spec.new_customers_target * min(ratio, 1.6) * share)):
                    entries.append(self._ledger_entry(rm, "new_customer", 0, self.pick(days)))
        writer.insert(table_of(PerformanceTarget), targets)
        writer.insert(table_of(PerformanceEntry), entries)

    def _veteran_spike(
        self,
        entries: list[dict[str, Any]],
        rm: Rm,
        new_business: int,
        days: list[date],
        last_day: int,
        licensed: dict[str, list[int]],
        ref: int,
    ) -> int:
        """Conduct signal: most of a spike month's new business lands on the month's last two days,
        late in the evening; much of it is reversed a few days later; and some of it is a product
        the RM holds no licence to sell."""
        rng = self.rng
        month_end = days[0].replace(day=last_day)
        burst_days = [d for d in days if d.day >= last_day - 1] or days[-1:]
        for _ in range(self.between(4, 7)):
            ref += 1
            tx = f"TX{self.seed}-{ref:07d}"
            amount = int(new_business * rng.uniform(0.1, 0.2))
            sale = self._ledger_entry(
                rm, "new_business", amount, self.pick(burst_days), late=True, source_ref=tx
            )
            entries.append(sale)
            reverse_day = month_end + timedelta(days=self.between(2, 6))
            if reverse_day < self.today and rng.random() < 0.7:
                back = -int(amount * rng.uniform(0.4, 0.9))
                entries.append(
                    self._ledger_entry(
                        rm,
                        "new_business",
                        back,
                        reverse_day,
                        source="adjustment",
                        source_ref=f"reversal:{tx}",
                        pick=(sale["customer_id"], sale["product_id"]),
                    )
                )
        lacking = [q for q in ("wealth", "fx") if q not in rm.qualifications and licensed[q]]
        if lacking and rm.sample:
            product_id = self.pick(licensed[self.pick(lacking)])
            pick = (self.pick(rm.sample)[0], product_id)
            amount = int(new_business * 0.1)
            entries.append(
                self._ledger_entry(rm, "new_business", amount, self.pick(burst_days), late=True, pick=pick)
            )
        return ref

    def _audit_history(self, writer: Writer) -> None:
        """Sign-ins over the last 60 days for everyone; for veterans, late-night bursts of
        `customer.reveal` from addresses outside the bank's network."""
        rng = self.rng
        rows: list[dict[str, Any]] = []
        for rm in self.rms:
            for back in range(60, 0, -1):
                day = self.today - timedelta(days=back)
                if day.weekday() >= 5 or day < rm.hire_date or rng.random() < 0.1:
                    continue
                rows.append(
                    {
                        "at": local_dt(day, self.between(8, 9), self.between(0, 59), self.between(0, 59)),
                        "actor_id": rm.id,
                        "action": "login.success",
                        "object_type": None,
                        "object_id": None,
                        "ip": f"10.{rm.branch_id % 250}.{self.between(1, 20)}.{self.between(2, 250)}",
                        "detail": {},
                    }
                )
            owned = [c for c, _ in rm.sample if c is not None]
            if not owned:
                continue
            reveals = 0
            if rm.persona == Persona.veteran:
                reveals = self.between(3, 6)  # bursts
            elif rng.random() < 0.5:
                reveals = 1
            for _ in range(reveals):
                day = self.today - timedelta(days=self.between(1, 90))
                veteran = rm.persona == Persona.veteran
                at = local_dt(
                    day, self.between(22, 23) if veteran else self.between(9, 17), self.between(0, 30)
                )
                ip = (
                    f"117.{self.between(20, 200)}.{self.between(0, 255)}.{self.between(2, 250)}"
                    if veteran
                    else f"10.{rm.branch_id % 250}.1.{self.between(2, 250)}"
                )
                for _ in range(self.between(15, 40) if veteran else self.between(1, 2)):
                    at += timedelta(seconds=self.between(5, 40))
                    rows.append(
                        {
                            "at": at,
                            "actor_id": rm.id,
                            "action": "customer.reveal",
                            "object_type": "customer",
                            "object_id": str(self.pick(owned)),
                            "ip": ip,
                            "detail": {"field": "phone", "reason": "核实客户联系方式"},
                        }
                    )
        rows.sort(key=lambda r: r["at"])
        writer.insert(table_of(AuditEntry), rows)
