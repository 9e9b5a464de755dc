"""Bulk Gold Plan (点金计划) rollout: one resumable job over many special merchants.

The job is the Rust library ``goldplan-bulk`` (the same one as ``goldplan bulk`` on the command
line), reached through its JSON surface; this module only translates Python values:

* :func:`check_plan` -- validate a plan (a CSV or JSON Lines file, or rows as dicts) before
  anything is sent; a plan with problems raises :class:`goldplan.errors.InvalidInputError`
  whose ``problems`` list every ``{"line", "column", "message"}``;
* :func:`run` -- send the plan's operations with a client, journaled in an SQLite file: run it
  again with the same plan and journal after a crash or a Ctrl-C and it continues where it
  stopped, sending nothing that was confirmed;
* :func:`report` -- per special merchant, the state WeChat Pay confirmed, when, with which
  Request-ID, and the failures (one dict per merchant);
* :func:`retry_failed` -- put failed operations back for the next run.

Build the client with ``max_attempts=1``: the runner retries by itself and must see every
命中频率限制 answer to slow down in time (a client that retries still works, it adapts later).

Plan columns: ``sub_mchid``, ``gold_plan`` (``OPEN``/``CLOSE``), ``pay_scene``,
``custom_page``, ``industry_filter`` (tags joined with ``|``), ``ad_show``, ``ad_tags``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from goldplan import _goldplan
from goldplan._goldplan import AsyncClient, Client

__all__ = ["DEFAULT_OPTIONS", "Plan", "check_plan", "run", "report", "retry_failed"]

#: A plan: a file path (CSV with a header, or JSON Lines), rows as dicts (row ``i`` is line
#: ``i + 1``), or a source mapping ``{"text": ..., "name"?: ..., "format"?: "csv"|"jsonl"}``.
Plan = Union[str, "os.PathLike[str]", Sequence[Mapping[str, Any]], Mapping[str, Any]]

#: The run options with the library's defaults (``rate_per_sec`` in operations per second).
DEFAULT_OPTIONS: Dict[str, Any] = json.loads(_goldplan.bulk_default_options())


def _source(plan: Plan, name: Optional[str]) -> str:
    if isinstance(plan, (str, os.PathLike)):
        source: Dict[str, Any] = {"path": os.fspath(plan)}
    elif isinstance(plan, Mapping):
        source = dict(plan)
    else:
        source = {"rows": [dict(row) for row in plan]}
    if name is not None:
        source["name"] = name
    return json.dumps(source)


def _journal(journal: Union[str, "os.PathLike[str]"]) -> str:
    return os.fspath(journal)


def check_plan(plan: Plan, *, name: Optional[str] = None) -> Dict[str, Any]:
    """Validates ``plan`` without sending anything. Returns ``name``, ``sha256``, ``format``,
    ``merchants``, ``operations`` and ``by_operation`` (operation name -> count); raises
    :class:`~goldplan.errors.InvalidInputError` with ``problems`` (each with its ``line``)
    otherwise. ``name`` names a plan given as rows (default ``"rows"``)."""
    result: Dict[str, Any] = json.loads(_goldplan.bulk_check_plan(_source(plan, name)))
    return result


def run(
    client: Union[Client, AsyncClient],
    plan: Plan,
    journal: Union[str, "os.PathLike[str]"],
    *,
    concurrency: int = DEFAULT_OPTIONS["concurrency"],
    rate: Optional[float] = DEFAULT_OPTIONS["rate_per_sec"],
    dry_run: bool = False,
    on_event: Optional[Callable[[Dict[str, Any]], object]] = None,
    name: Optional[str] = None,
    options: Optional[Mapping[str, Any]] = None,
) -> Dict[str, Any]:
    """Runs the plan's job and returns its summary (``done``, ``failed``, ``remaining``,
    ``requests_sent``, ``rate_limited_answers``, ``cancelled``, ...).

    ``journal`` is the job's SQLite file: created for a new job, continued for the same plan,
    refused for another plan. ``concurrency`` merchants are worked on at once, at most ``rate``
    operations per second (``None``: no rate of our own; WeChat Pay's 命中频率限制 still slows
    the run down). ``dry_run`` sends nothing and reports ``would_send`` events.

    ``on_event`` receives every event as a dict (``{"event": "done", ...}``, ``"progress"``,
    ``"failed"``, ``"retrying"``, ``"rate_changed"``, ``"finished"``, ...), on the thread that
    called ``run``, one at a time; the job itself runs with the GIL released. If ``on_event``
    raises, or Ctrl-C arrives, no new operation starts, those in flight finish and are
    journaled, and the exception propagates: run again to continue.

    ``options`` sets the other run options (``burst``, ``max_attempts``,
    ``max_rate_limited_attempts``, ``base_delay_ms``, ``max_delay_ms``, ``min_rate_per_sec``,
    ``progress_interval_ms``; see :data:`DEFAULT_OPTIONS`)."""
    merged: Dict[str, Any] = dict(options or {})
    merged.update(concurrency=concurrency, rate_per_sec=rate, dry_run=dry_run)
    summary: Dict[str, Any] = json.loads(
        _goldplan.bulk_run(
            client, _source(plan, name), _journal(journal), json.dumps(merged), on_event
        )
    )
    return summary


def report(journal: Union[str, "os.PathLike[str]"]) -> List[Dict[str, Any]]:
    """One row per special merchant, in plan order: ``sub_mchid``, ``line``, ``gold_plan``,
    ``pay_scene``, ``custom_page``, ``industry_filter``, ``ad_show`` (each ``None`` or the
    confirmed ``{"value", "at", "at_rfc3339", "request_id"}``), ``pending`` and ``failures``
    (``{"operation", "kind", "reason", "request_id", "attempts", "error"}``). Built from what
    WeChat Pay confirmed, never from the plan's wishes."""
    rows: List[Dict[str, Any]] = json.loads(_goldplan.bulk_report(_journal(journal)))[
        "merchants"
    ]
    return rows


def retry_failed(
    journal: Union[str, "os.PathLike[str]"], include_reopen_too_soon: bool = False
) -> int:
    """Puts the journal's failed operations back to pending for the next :func:`run`; those
    refused by the 24-hour re-open rule only with ``include_reopen_too_soon``. Returns how
    many."""
    return _goldplan.bulk_retry_failed(_journal(journal), include_reopen_too_soon)
