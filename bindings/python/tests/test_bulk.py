"""goldplan.bulk against the in-process sandbox: a rate-limited rollout with faults ends as
planned, the report matches the sandbox, events arrive on the calling thread, a plan with
problems raises with its lines, and a second run of the same journal sends nothing."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Dict, List

import pytest

import goldplan
from goldplan import bulk
from goldplan.errors import InvalidInputError
from goldplan.testing import Sandbox

if not goldplan._goldplan.HAS_SANDBOX:  # pragma: no cover - production wheels
    pytest.skip("this build has no sandbox", allow_module_level=True)

SUBS = [str(1_900_200_000 + i) for i in range(60)]


def rows_for(subs: List[str]) -> List[Dict[str, Any]]:
    """Three operations per merchant, in three shapes."""
    rows: List[Dict[str, Any]] = []
    for i, s in enumerate(subs):
        if i % 3 == 0:
            rows.append(
                {"sub_mchid": s, "gold_plan": "OPEN", "custom_page": "OPEN",
                 "industry_filter": "SOFTWARE|GAME"}
            )
        elif i % 3 == 1:
            rows.append(
                {"sub_mchid": s, "gold_plan": "OPEN", "pay_scene": "JSAPI_AND_MINIPROGRAM",
                 "custom_page": "CLOSE", "ad_show": "OPEN", "ad_tags": "POTOGRAPHY|FOOD"}
            )
        else:
            rows.append({"sub_mchid": s, "gold_plan": "OPEN", "custom_page": "OPEN",
                         "ad_show": "OPEN"})
    return rows


def gold_plan_successes(sandbox: Sandbox) -> int:
    return sum(
        1
        for r in sandbox.requests()
        if r["path"].startswith("/v3/goldplan/") and 200 <= r["status"] < 300
    )


@pytest.fixture
def sandbox() -> Any:
    with Sandbox(
        mode="public_key", settings={"rate_limit": {"max_requests": 40, "window_secs": 1}}
    ) as sb:
        for s in SUBS:
            sb.add_sub_merchant(s, receipt_link="https://example.com/receipt")
        yield sb


def test_check_plan_counts_rows_and_files(tmp_path: Path) -> None:
    summary = bulk.check_plan(rows_for(SUBS[:3]), name="three")
    assert summary["name"] == "three"
    assert summary["merchants"] == 3
    assert summary["operations"] == 9
    assert summary["by_operation"]["change_gold_plan_status"] == 3
    plan = tmp_path / "rollout.csv"
    plan.write_text("sub_mchid,gold_plan,custom_page\n1900000109,OPEN,OPEN\n", encoding="utf-8")
    assert bulk.check_plan(plan)["operations"] == 2
    assert bulk.check_plan(str(plan))["format"] == "csv"
    text = bulk.check_plan({"text": '{"sub_mchid": "1900000109", "gold_plan": "CLOSE"}\n'})
    assert text["format"] == "json_lines"


def test_a_plan_with_problems_raises_with_its_lines(tmp_path: Path) -> None:
    plan = tmp_path / "bad.csv"
    plan.write_text(
        "sub_mchid,gold_plan,ad_show,ad_tags\n"
        "1900000109,OPEN,OPEN,SOFTWARE\n"
        "abc,OPEN,,\n"
        "1900000110,OPEN,OPEN,NOT_A_TAG\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as caught:
        bulk.check_plan(plan)
    lines = [p["line"] for p in caught.value.problems]  # type: ignore[attr-defined]
    assert lines == [3, 4], caught.value.problems  # type: ignore[attr-defined]
    assert "line 3" in str(caught.value)
    with pytest.raises(InvalidInputError) as caught:
        bulk.check_plan([{"sub_mchid": "1900000109", "gold_plan": "MAYBE"}])
    assert caught.value.problems[0]["line"] == 1  # type: ignore[attr-defined]


def test_a_plan_with_problems_sends_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    client = sandbox.client(max_attempts=1)
    bad = [{"sub_mchid": SUBS[0], "gold_plan": "OPEN"}, {"sub_mchid": "x1", "gold_plan": "OPEN"}]
    with pytest.raises(InvalidInputError) as caught:
        bulk.run(client, bad, tmp_path / "job.db")
    assert caught.value.problems[0]["line"] == 2  # type: ignore[attr-defined]
    assert gold_plan_successes(sandbox) == 0
    assert not (tmp_path / "job.db").exists()


def test_bad_options_and_journals_are_invalid_input(sandbox: Sandbox, tmp_path: Path) -> None:
    client = sandbox.client(max_attempts=1)
    with pytest.raises(InvalidInputError):
        bulk.run(client, rows_for(SUBS[:1]), tmp_path / "a.db", concurrency=0)
    with pytest.raises(InvalidInputError):
        bulk.run(client, rows_for(SUBS[:1]), tmp_path / "b.db", options={"no_such": 1})
    with pytest.raises(InvalidInputError):
        bulk.report(tmp_path / "missing.db")
    with pytest.raises(TypeError):
        bulk.run(object(), rows_for(SUBS[:1]), tmp_path / "c.db")  # type: ignore[arg-type]


def test_a_rate_limited_rollout_with_faults_ends_as_planned(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    for kind in ("system_error", "rate_limited", "connection_reset"):
        sandbox.inject_fault(kind, count=2, path="/v3/goldplan/*")
    client = sandbox.client(max_attempts=1)
    rows = rows_for(SUBS)
    journal = tmp_path / "job.db"
    events: List[Dict[str, Any]] = []
    threads = set()

    def on_event(event: Dict[str, Any]) -> None:
        threads.add(threading.get_ident())
        events.append(event)

    summary = bulk.run(
        client, rows, journal, concurrency=8, rate=60.0, on_event=on_event,
        options={"base_delay_ms": 20},
    )
    assert (summary["done"], summary["failed"], summary["remaining"]) == (180, 0, 0), summary
    assert summary["rate_limited_answers"] >= 2, summary
    assert summary["retries"] >= 2, summary
    # Events arrived, on this thread only, from "started" to "finished".
    assert threads == {threading.get_ident()}
    kinds = [e["event"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert kinds.count("done") == 180
    assert "retrying" in kinds
    assert events[-1]["done"] == 180

    rows_out = bulk.report(journal)
    assert [r["sub_mchid"] for r in rows_out] == SUBS
    for i, (s, row) in enumerate(zip(SUBS, rows_out)):
        state = sandbox.sub_merchant(s)
        # The sandbox equals the plan ...
        assert state["gold_plan"] == "OPEN", (s, state)
        custom, filters, ad = {
            0: ("OPEN", ["SOFTWARE", "GAME"], "CLOSE"),
            1: ("CLOSE", ["POTOGRAPHY", "FOOD"], "OPEN"),
            2: ("OPEN", [], "OPEN"),
        }[i % 3]
        assert state["custom_page"] == custom, (s, state)
        assert state["advertising_industry_filters"] == filters, (s, state)
        assert state["advertising_show"] == ad, (s, state)
        # ... and the report equals the sandbox, with a Request-ID per confirmation.
        assert row["failures"] == [] and row["pending"] == 0
        assert row["gold_plan"]["value"] == "OPEN"
        assert row["gold_plan"]["request_id"]
        assert row["custom_page"]["value"] == state["custom_page"]
        if i % 3 != 0:
            assert row["ad_show"]["value"] == state["advertising_show"]
        joined = "|".join(state["advertising_industry_filters"])
        assert (row["industry_filter"] or {}).get("value") == (joined or None)

    # A second run of the same journal sends nothing new.
    sent = gold_plan_successes(sandbox)
    again = bulk.run(client, rows, journal)
    assert again["requests_sent"] == 0 and again["done_this_run"] == 0, again
    assert gold_plan_successes(sandbox) == sent
    assert bulk.retry_failed(journal) == 0


def test_dry_run_sends_nothing_and_lists_what_it_would(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    client = sandbox.async_client(max_attempts=1)
    events: List[Dict[str, Any]] = []
    summary = bulk.run(
        client, rows_for(SUBS[:4]), tmp_path / "job.db", dry_run=True, on_event=events.append
    )
    assert summary["dry_run"] is True and summary["would_send"] == 12, summary
    assert sum(e["event"] == "would_send" for e in events) == 12
    assert gold_plan_successes(sandbox) == 0


def test_a_raising_callback_stops_the_run_and_the_next_run_continues(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    client = sandbox.client(max_attempts=1)
    rows = rows_for(SUBS[:12])
    journal = tmp_path / "job.db"
    seen = []

    def stop_after_some(event: Dict[str, Any]) -> None:
        if event["event"] == "done":
            seen.append(event)
            if len(seen) == 5:
                raise KeyError("enough")

    with pytest.raises(KeyError):
        bulk.run(client, rows, journal, concurrency=2, on_event=stop_after_some)
    left = sum(r["pending"] for r in bulk.report(journal))
    assert 0 < left < 36
    summary = bulk.run(client, rows, journal)
    assert (summary["done"], summary["failed"], summary["remaining"]) == (36, 0, 0), summary
    assert summary["done_this_run"] == left


def test_a_failed_open_is_reported_and_retried(sandbox: Sandbox, tmp_path: Path) -> None:
    client = sandbox.client(max_attempts=1)
    unknown = "1900999999"  # not registered with the sandbox: WeChat Pay refuses it
    rows = [{"sub_mchid": SUBS[0], "gold_plan": "OPEN"},
            {"sub_mchid": unknown, "gold_plan": "OPEN", "custom_page": "OPEN"}]
    journal = tmp_path / "job.db"
    summary = bulk.run(client, rows, journal, rate=None)
    assert summary["done"] == 1 and summary["failed"] == 2, summary
    ok, refused = bulk.report(journal)
    assert ok["gold_plan"]["value"] == "OPEN" and ok["failures"] == []
    assert refused["gold_plan"] is None
    assert {f["operation"] for f in refused["failures"]} == {
        "change_gold_plan_status", "change_custom_page_status"}
    assert all(f["reason"] for f in refused["failures"])
    assert bulk.retry_failed(journal) == 2
    assert bulk.report(journal)[1]["pending"] == 2
