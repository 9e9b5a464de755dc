"""The merchant receipt (商家小票) page, checked the way WeChat's Gold Plan page uses it.

:func:`test` loads your receipt page in a headless Chromium, inside a stand-in of the Gold Plan
page at ``https://payapp.weixin.qq.com`` (the mapping lives in that browser only), and judges
it against the receipt contract: ``onIframeReady`` within 3 s, posted as a JSON string with a
known ``action``/``displayStyle`` to ``https://payapp.weixin.qq.com``; ``check_code`` verified
(a wrong one must get ``SHOW_OFFICIAL_PAGE``); ``jumpOut`` to https only; WeChat's script
loaded; no console errors or failed sub-resources. It is the Rust library ``goldplan-receipt``,
the same as ``goldplan receipt test`` on the command line::

    report = goldplan.receipt.test(
        "http://127.0.0.1:8000/receipt",
        out_trade_no=order_no, transaction_id=transaction_id, sub_mch_id="1900000109",
        screenshot="gold-plan-page.png",
    )
    assert report["passed"], [r for r in report["rules"] if not r["passed"]]

Chromium comes from ``$GOLDPLAN_CHROMIUM`` or ``PATH`` (``apt-get install chromium``); without it
:class:`goldplan.errors.ConfigurationError` says how to install it.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Union

from goldplan import _goldplan

__all__ = ["RULES", "test"]

#: The rules a report judges, in its order (``report["rules"][i]["rule"]``), from the library.
RULES: List[str] = _goldplan.receipt_rules()


def test(
    url: str,
    *,
    sub_mch_id: Optional[str] = None,
    out_trade_no: Optional[str] = None,
    transaction_id: Optional[str] = None,
    screenshot: Optional[Union[str, "os.PathLike[str]"]] = None,
    chromium: Optional[Union[str, "os.PathLike[str]"]] = None,
) -> Dict[str, Any]:
    """Tests the receipt page at ``url`` (the link as configured in the partner portal) for the
    order ``out_trade_no``/``transaction_id`` of ``sub_mch_id`` (a fresh, unknown order when
    not given, which the page should answer with ``SHOW_OFFICIAL_PAGE``).

    Returns the report: ``passed``, ``ready_ms``, ``limit_ms``, ``margin_ms``,
    ``display_style``, ``shown``, ``rules`` (``{"rule", "passed", "detail"}`` each),
    ``messages``, ``jump_out_urls``, ``console_errors``, ``failed_resources``, ``screenshot``,
    ``wall_ms``, ``browser_start_ms``. A page that breaks a rule is a report with ``passed``
    false, not an exception; a missing Chromium, a bad URL or option raise.
    """
    options: Dict[str, Any] = {}
    if sub_mch_id is not None:
        options["sub_mch_id"] = sub_mch_id
    if out_trade_no is not None:
        options["out_trade_no"] = out_trade_no
    if transaction_id is not None:
        options["transaction_id"] = transaction_id
    if screenshot is not None:
        options["screenshot"] = os.fspath(screenshot)
    if chromium is not None:
        options["chromium"] = os.fspath(chromium)
    report: Dict[str, Any] = json.loads(_goldplan.receipt_test(url, json.dumps(options)))
    return report
