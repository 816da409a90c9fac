"""`python -m tasks.schedule`: starts every periodic job chain once per deployment (the Procfile's
release step). Each chain books its own next run under a deterministic job id, so running this
again, or from two places at once, adds nothing."""

from __future__ import annotations

from tasks.context import app
from tasks.queues import init_app as init_queues


def start_all() -> dict[str, str]:
    from tasks import intel, knowledge, opportunities, reminders, warrooms

    init_queues(app())
    started = {}
    reminders.ensure_scan_scheduled()
    started["reminders"] = "minute scan"
    started["intel"] = str(intel.schedule_next_tick())
    knowledge.ensure_nightly_scheduled()
    started["knowledge"] = "nightly batch"
    started["opportunities"] = opportunities.schedule_sweep()
    started["warrooms"] = warrooms.schedule_daily_summaries()
    return started


if __name__ == "__main__":
    for chain, detail in start_all().items():
        print(f"schedule {chain}: {detail}")
