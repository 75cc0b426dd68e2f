"""uvicorn's access log of a real central shows the shape of each request and no Tracking
ID, no search words and no secret: the public status page, the status API, the workbench's
report page and search, and an Open311 listing with its key, each asked for, then every
line the server wrote is read."""
from __future__ import annotations

import requests

from kiosk.kernel.tracking_id import format_tracking_id
from tests.support.central import auth, central_cli, report, send
from tests.support.servers import central_keeping_its_log
from tests.support.workbench import add_officer, log_in

NAME = "Wulandari"


def test_the_access_log_keeps_no_tracking_id_search_or_secret(tmp_path):
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    with central_keeping_its_log(url) as (base, lines):
        token = central_cli(url, "kiosk", "add", "MT01", "--location", "x").stdout.strip()
        body = report(reporter_name=NAME)
        tid = body["tracking_id"]
        send(base, token, body)
        key = central_cli(url, "open311-client", "add", "peta-warga").stdout.strip()
        add_officer(url, "Budi Viewer", "viewer")
        viewer = log_in(base, "Budi Viewer")
        asked = [requests.get(f"{base}/status/{tid}", timeout=30),
                 requests.get(f"{base}/status/{format_tracking_id(tid)}?lang=en", timeout=30),
                 requests.get(f"{base}/api/v1/reports/{tid}/status", headers=auth(token), timeout=30),
                 viewer.get(f"{base}/workbench/reports/{tid}", timeout=30),
                 viewer.get(f"{base}/workbench/?q={NAME}", timeout=30),
                 requests.get(f"{base}/open311/v2/requests.json?api_key={key}", timeout=30)]
        assert [a.status_code for a in asked] == [200] * len(asked)
        requests.get(f"{base}/healthz", timeout=30)  # the last line: every earlier one is written
        lines.wait_for("/healthz")
        log = "".join(lines)
        assert "/status/[tracking-id]" in log and "/workbench/?q=[hidden]" in log
        for secret in (tid, format_tracking_id(tid), NAME, key, token):
            assert secret not in log, secret
