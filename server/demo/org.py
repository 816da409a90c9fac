"""The demo bank's organisation and shelf: branches, teams, users and RM profiles (the personas by
construction), the products it sells and the customer tags."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from server.auth.service import hash_password
from server.customers.models import Tag
from server.db import table_of
from server.demo import catalog, places, traits
from server.demo.base import DEMO_PASSWORD, DEMO_RMS, PERSONAS, BuilderBase, Rm, cumulative
from server.demo.writer import Writer
from server.org.models import Branch, Persona, RmProfile, Role, Team, User
from server.products.models import Product
from server.reference import REGIONS


class OrgBuilder(BuilderBase):
    def _organisation(self, writer: Writer) -> None:
        rng = self.rng
        bid = self.code_base["branch"]
        head_id = bid + 1
        code, name, region, lat, lng = places.HEAD_BRANCH
        branch_rows = [
            {
                "id": head_id,
                "code": code,
                "name": name,
                "city": REGIONS[region]["name"],
                "region_code": region,
                "parent_id": None,
                "latitude": lat,
                "longitude": lng,
            }
        ]
        self.branches.append((head_id, code, region, lat, lng))
        for i, (code, name, region, lat, lng) in enumerate(places.BRANCHES, start=2):
            branch_rows.append(
                {
                    "id": bid + i,
                    "code": code,
                    "name": name,
                    "city": REGIONS[region]["name"],
                    "region_code": region,
                    "parent_id": head_id,
                    "latitude": lat,
                    "longitude": lng,
                }
            )
            self.branches.append((bid + i, code, region, lat, lng))
        writer.insert(table_of(Branch), branch_rows)

        # One team per branch, plus the demo team at the head branch.
        team_base = self.code_base["team"]
        teams = []  # (team id, branch index)
        teams.append((team_base + 1, 0))
        for i in range(1, len(self.branches)):
            teams.append((team_base + 1 + i, i))
        team_rows = []
        for n, (team_id, b) in enumerate(teams):
            city = REGIONS[self.branches[b][2]]["name"].rstrip("市")
            label = (
                "营业部客户经理一组"
                if n == 0
                else f"{places.BRANCHES[b - 1][1].replace(city, '')}客户经理团队"
            )
            team_rows.append(
                {"id": team_id, "name": label, "branch_id": self.branches[b][0], "lead_id": None}
            )
        writer.insert(table_of(Team), team_rows)

        password_hash = hash_password(DEMO_PASSWORD)  # argon2 once; every demo user shares it
        uid = self.code_base["user"]
        users: list[dict[str, Any]] = []
        profiles: list[dict[str, Any]] = []
        leads: list[int] = []

        def add_user(
            username: str, display: str, role: Role, branch_index: int, team_index: int | None
        ) -> int:
            nonlocal uid
            uid += 1
            users.append(
                {
                    "id": uid,
                    "username": username,
                    "display_name": display,
                    "password_hash": password_hash,
                    "role": role.value,
                    "branch_id": self.branches[branch_index][0],
                    "team_id": teams[team_index][0] if team_index is not None else None,
                    "is_active": True,
                    "failed_logins": 0,
                    "locked_until": None,
                    "created_at": self.now - timedelta(days=self.between(400, 2000)),
                }
            )
            return uid

        leads.append(add_user("lead", "孙立新", Role.team_lead, 0, 0))
        for t in range(1, len(teams)):
            surname, given = self._person_name(self.pick("MF"))
            leads.append(add_user(f"lead{t + 1:02d}", surname + given, Role.team_lead, teams[t][1], t))
        add_user("risk", "吴慧敏", Role.risk_officer, 0, None)
        add_user("admin", "系统管理员", Role.admin, 0, None)

        # ~40 RMs: the five demo logins and two more in the demo team, the rest dealt over the others.
        pool: list[Persona] = []
        for persona, spec in PERSONAS.items():
            pool += [persona] * spec.count
        for _, persona, _ in DEMO_RMS:
            pool.remove(persona)
        pool.remove(Persona.newcomer)
        pool.remove(Persona.general)
        rng.shuffle(pool)
        rm_plan: list[tuple[str, Persona, str | None, int]] = [(u, p, d, 0) for u, p, d in DEMO_RMS]
        rm_plan += [("rm006", Persona.newcomer, None, 0), ("rm007", Persona.general, None, 0)]
        for n, persona in enumerate(pool):
            rm_plan.append((f"rm{n + 8:03d}", persona, None, 1 + n % (len(teams) - 1)))
        for username, persona, display, team_index in rm_plan:
            spec = PERSONAS[persona]
            if display is None:
                surname, given = self._person_name(self.pick("MF"))
                display = surname + given
            branch_index = teams[team_index][1]
            rm_id = add_user(username, display, Role.rm, branch_index, team_index)
            hire = self.today - timedelta(days=self.between(*spec.tenure_days))
            quals = list(spec.qualifications)
            if persona == Persona.newcomer and rng.random() < 0.5:
                quals.append("fund_sales")  # the first licence newcomers take
            region = self.branches[branch_index][2]
            profiles.append(
                {
                    "user_id": rm_id,
                    "persona": persona.value,
                    "hire_date": hire,
                    "grade": spec.grade,
                    "qualifications": quals,
                    "languages": ["zh", "en"] if rng.random() < 0.4 else ["zh"],
                    "home_region": region,
                }
            )
            self.rms.append(
                Rm(
                    rm_id,
                    username,
                    display,
                    persona,
                    hire,
                    self.branches[branch_index][0],
                    region,
                    team_index,
                    quals,
                )
            )
        writer.insert(table_of(User), users)
        writer.insert(table_of(RmProfile), profiles)
        for (team_id, _), lead_id in zip(teams, leads, strict=True):
            writer.conn.execute(
                update(table_of(Team)).where(table_of(Team).c.id == team_id).values(lead_id=lead_id)
            )

    def _products(self, writer: Writer) -> None:
        base = self.code_base["product"]
        rows = []
        for i, p in enumerate(catalog.PRODUCTS, start=1):
            rows.append(
                {
                    "id": base + i,
                    "code": p["code"],
                    "name": p["name"],
                    "category": p["category"],
                    "segment": p["segment"],
                    "terms": p["terms"],
                    "required_qualification": p["qualification"],
                    "risk_level": p["risk_level"],
                    "selling_points": p["selling_points"],
                    "advantages": catalog.product_advantages(p),
                    "target_profile": p["target"],
                }
            )
            self.products.append({**p, "id": base + i})
        writer.insert(table_of(Product), rows)
        # What each segment tends to hold, most common first.
        weights = {
            "deposit": 6,
            "wealth": 3,
            "fund": 2,
            "loan": 2,
            "insurance": 1,
            "payroll": 2,
            "cash_management": 1,
            "trade_finance": 1,
            "credit_card": 2,
            "fx": 1,
        }
        self.segment_products = {}
        for segment in ("corporate", "individual"):
            items = [p for p in self.products if p["segment"] in (segment, "both")]
            self.segment_products[segment] = (items, cumulative(weights[p["category"]] for p in items))

    def _tags(self, writer: Writer) -> None:
        base = self.code_base["tag"]
        self.tag_ids = {name: base + i for i, (name, _category) in enumerate(traits.TAGS, start=1)}
        rows = [
            {"id": self.tag_ids[name], "name": name, "category": category} for name, category in traits.TAGS
        ]
        writer.insert(table_of(Tag), rows)

    # -- customers --------------------------------------------------------------------------------
