"""The fields a report gained after the first kiosks (a recording, the SMS consent) travel
only when they say something: a kiosk upgraded before its central is still understood, and
a report resent by an upgraded kiosk is a duplicate of what it sent before. The kiosk's
real client against a real central on 127.0.0.1; what crossed the wire is read back."""
from __future__ import annotations

import json

import pytest
import requests

from kiosk.kernel.wire import ReportIn
from sync_queue.client import CentralClient
from tests.support.central import central_cli, query, report, running_central

ADDED_LATER = ("voice", "sms_consent")


@pytest.fixture(scope="module")
def central(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('wire-optional') / 'central.sqlite3'}"
    with running_central(url) as base:
        yield base, url, central_cli(url, "kiosk", "add", "MT01", "--location", "x").stdout.strip()


def _client(base: str, token: str) -> tuple[CentralClient, list[dict]]:
    wire: list[dict] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, **_: wire.append(json.loads(response.request.body)))
    return CentralClient(base, token, session=session), wire


def test_a_report_without_a_recording_or_consent_carries_neither_field(central):
    base, url, token = central
    client, wire = _client(base, token)
    plain = ReportIn.model_validate(report())
    [result] = client.send_reports([plain])
    assert result.outcome == "created"
    [sent] = wire[0]["reports"]
    assert not set(ADDED_LATER) & set(sent)
    [(body,)] = query(url, "SELECT body FROM reports WHERE tracking_id = :t", t=plain.tracking_id)
    assert not set(ADDED_LATER) & set(json.loads(body))
    # An older kiosk's resend of the same report (the same fields, as it always sent them).
    answer = requests.post(f"{base}/api/v1/reports", json={"reports": [sent]},
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert answer.json()["results"][0]["outcome"] == "duplicate"


def test_a_consent_travels_and_is_kept(central):
    base, url, token = central
    client, wire = _client(base, token)
    agreed = ReportIn.model_validate(report(sms_consent=True))
    [result] = client.send_reports([agreed])
    assert result.outcome == "created" and wire[0]["reports"][0]["sms_consent"] is True
    [(body,)] = query(url, "SELECT body FROM reports WHERE tracking_id = :t", t=agreed.tracking_id)
    assert json.loads(body)["sms_consent"] is True
    [again] = client.send_reports([agreed])
    assert again.outcome == "duplicate"
