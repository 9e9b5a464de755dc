"""The README's Python quick start: open Gold Plan for a special merchant, and read an error.

Run: python quickstart.py goldplan-sandbox-state/sandbox.json [sub_mchid]
"""

import sys

import goldplan
from goldplan.errors import ApiError

client = goldplan.Client.from_file(sys.argv[1] if len(sys.argv) > 1 else "goldplan-sandbox-state/sandbox.json")
sub_mchid = sys.argv[2] if len(sys.argv) > 2 else "1900000109"

reply = client.change_gold_plan_status(sub_mchid, "OPEN", "JSAPI")
print(f"Gold Plan opened for {reply.data['sub_mchid']} (Request-ID {reply.request_id})")

try:
    client.change_gold_plan_status("1234567890", "OPEN")
except ApiError as e:
    # WeChat Pay refused: HTTP status, WeChat's code, message, Request-ID
    print(f"refused: HTTP {e.status} {e.code}: {e.message} [{e.request_id}]")
