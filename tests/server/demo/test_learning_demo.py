"""The demo bank has enough history for the newcomer's case cards, playbook and a helper task."""

from __future__ import annotations


def test_newcomer_sees_cases_playbook_and_a_helper_task(demo_bank, login):
    added = demo_bank.config["DEMO_FEATURES"]["learning"]
    assert added["opportunities"] >= 40 and added["war_rooms"] >= 1 and added["helper_tasks"] == 2
    newcomer = login("rm_newcomer")
    cards = newcomer.get("/api/v1/learning/cases").get_json()
    assert len(cards["items"]) == 10
    assert {c["source"] for c in cards["items"]} >= {"opportunity"}
    assert cards["items"][0]["similarity"] >= 0.6
    playbook = newcomer.get("/api/v1/learning/playbook").get_json()
    cadence = next(f for f in playbook["figures"] if f["key"] == "visit_cadence_days")
    assert cadence["best"] is not None and cadence["team"] is not None
    assert playbook["sequences"]["best"]
    tasks = newcomer.get("/api/v1/helpers/tasks").get_json()["for_me"]
    assert len(tasks) == 2 and tasks[0]["owner"]["display_name"]
    quiz = newcomer.get("/api/v1/learning/quiz").get_json()
    assert len(quiz["items"]) == 5
