"""SMS intake throughput (issue 16; goal: at least 100 messages a second on one worker):
messages per second from the first POST of a gateway to the last reply queued, on SQLite
and on PostgreSQL, against the bare HTTP round trip to the same server in the same run.

``python -m central serve`` runs on 127.0.0.1 with one uvicorn worker, a secret key and an
SMS file of two HTTP gateways: SMS Gateway for Android (a signing key) and SMSSync (a
secret, the results API off). Each message is posted as its phone posts it: the Android
app's signed ``sms:received`` webhook (JSON, ``X-Signature`` over the body and
``X-Timestamp``) and SMSSync's form (``from``, ``message``, ``message_id``, ``secret``,
``sent_timestamp``...), the two alternating. Of every ten messages, six are ``BARUT`` with
a text of their own from one of a few hundred numbers (spelled ``0812...``, ``62812...``,
``+62812...``), three are ``CEK`` of a report filed before the clock ran (grouped, run
together, bare), and one is a repeat of a message posted a little earlier (the same
event id or ``message_id``: a gateway's retry; under several clients it may race its
original). They go once from one client, one request at a time, and once from 8 client
threads at once, as phones post concurrently; the clock runs from the first POST to the
last answer, and a gateway is answered only after the transaction that queued the reply
committed. Afterwards the database must hold exactly one message row per distinct
message, a report per distinct BARUT, one reply in ``sms_outbox`` per message, nothing
for a repeat and nothing limited.

The baseline, in the same run against the same server, with as many requests from as
many clients: ``GET /healthz`` (HTTP plus a ``SELECT 1``). The SMS file's limits are set
far above the load (``LIMITS``): this measures the intake, not the limits; every message
still pays both of its rate-limit buckets.

``python -m benchmarks.sms_intake`` runs it alone and rewrites its section of
docs/PERFORMANCE.md; ``make bench`` runs it with the others.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import random
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Callable

from benchmarks.common import on_both_databases, run_alone

MESSAGES = int(os.environ.get("BENCH_SMS_MESSAGES", "1000"))
#: One client at a time, then as many as the phones of a busy kabupaten posting at once.
CLIENTS = (1, 8)
GOAL_PER_S = 100
START, END = "<!-- sms-intake:start -->", "<!-- sms-intake:end -->"
SIGNING_KEY, SMSSYNC_SECRET = "bench-signing-key-barut", "bench-smssync-secret-barut"
ANDROID, SMSSYNC = "hp-android", "hp-smssync"
#: Far above the load, so that no message is limited (the defaults are 10 and 600).
LIMITS = {"per_number_per_hour": 1_000_000, "per_gateway_per_minute": 1_000_000}
#: Messages planned before the clock runs; their BARUTs file the reports the CEKs ask about.
FILED_BEFORE = 30
NUMBERS = 300

#: What folding the key's look-up and the buckets into the message's transaction gained.
BEFORE = [
    "Until 2026-12-02 the look-up of a message's key and each of its two buckets took a transaction",
    "of their own before the one that stored it: on SQLite a BARUT took three durable commits and",
    "four takes of the write lock, now one of each. `SmsDesk.take` in one process (300 messages of the",
    "mix above), the code before and after alternating on this machine that day: SQLite 203 and 209",
    "messages/s before, 261 and 269 after; PostgreSQL 130 and 136 before, 147 and 162 after. A",
    "repeat now costs 0.7 ms instead of 0.5 (its look-up is inside a write transaction).",
]

_PROBLEMS = ("jalan berlubang", "lampu jalan mati", "sampah menumpuk", "air PDAM keruh", "jembatan retak",
             "banjir setinggi lutut", "pungutan liar", "sekolah rusak", "obat puskesmas habis", "parkir liar")
_PLACES = ("Pasar Muara Teweh", "Desa Lahei", "Jalan Ahmad Yani", "Trinsing", "Kecamatan Teweh Tengah",
           "terminal", "pelabuhan", "kantor camat", "Desa Montallat", "Jalan Yetro Sinseng")
_SINCE = ("sejak kemarin", "sudah seminggu", "tiap hujan", "dari bulan lalu", "pagi ini")


@dataclasses.dataclass(frozen=True)
class Message:
    """One POST of a gateway: which one, the id it gives, the sender and the text."""

    gateway: str
    message_id: str
    sender: str
    text: str
    received_at: str  # ISO 8601 with the phone's offset (WIB)
    verb: str  # "filed", "status" or "repeat"


def _number(rng: random.Random) -> str:
    """One of NUMBERS senders, spelled as gateways spell it."""
    local = f"812{rng.randrange(NUMBERS):04d}4242"
    return rng.choice((f"0{local}", f"62{local}", f"+62{local}"))


def plan(count: int, filed: list[str], rng: random.Random) -> list[Message]:
    """``count`` messages: per ten, six BARUT, three CEK of ``filed`` (BARUT too when
    nothing is filed yet), one repeat of one of the last twenty (its gateway's same id, so
    the same message)."""
    from central.sms_text import grouped

    run, out = uuid.uuid4().hex[:8], []
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).isoformat(timespec="milliseconds")
    for n in range(count):
        gateway = (ANDROID, SMSSYNC)[n % 2]
        originals = [m for m in out[-20:] if m.verb != "repeat"]
        if n % 10 == 9 and originals:
            out.append(dataclasses.replace(rng.choice(originals), verb="repeat"))
            continue
        if n % 10 in (2, 5, 8) and filed:
            asked = rng.choice(filed)
            text = rng.choice((f"CEK {grouped(asked)}", f"cek {asked}", grouped(asked), f"Cek: {asked.lower()}"))
            verb = "status"
        else:
            text = (f"{rng.choice(('BARUT', 'barut', 'Barut:'))} {rng.choice(_PROBLEMS).capitalize()} di "
                    f"{rng.choice(_PLACES)} {rng.choice(_SINCE)}, mohon dicek. No {n}")
            verb = "filed"
        out.append(Message(gateway, f"{run}-{n}", _number(rng), text, now, verb))
    return out


def _post(session, base: str, message: Message):
    """``message`` as its phone posts it: the signed webhook, or SMSSync's form."""
    from central.sms_android import signature

    if message.gateway == ANDROID:
        body = json.dumps({
            "deviceId": "ffffffffceb0b1db0000018e937c815b", "event": "sms:received", "id": message.message_id,
            "payload": {"messageId": message.message_id[-8:], "message": message.text, "phoneNumber": message.sender,
                        "sender": message.sender, "recipient": "+6281100000002", "simNumber": 1,
                        "receivedAt": message.received_at},
            "webhookId": "LreFUt-Z3sSq0JufY9uWB"}).encode("utf-8")
        timestamp = str(int(time.time()))
        return session.post(f"{base}/sms/android/{ANDROID}", data=body, timeout=60, headers={
            "Content-Type": "application/json", "X-Timestamp": timestamp,
            "X-Signature": signature(SIGNING_KEY, body, timestamp)})
    return session.post(f"{base}/sms/smssync/{SMSSYNC}", timeout=60, data={
        "from": message.sender, "message": message.text, "message_id": message.message_id,
        "sent_to": "+6281100000001", "secret": SMSSYNC_SECRET, "device_id": "hp-dprd-1",
        "sent_timestamp": str(int(dt.datetime.fromisoformat(message.received_at).timestamp() * 1000))})


def _accepted(message: Message, answer) -> bool:
    if answer.status_code != 200:
        return False
    if message.gateway == ANDROID:
        return answer.json() == {"taken": 1}
    return answer.json()["payload"]["success"] is True


def drive(clients: int, items: list, call: Callable[[object, object], None]) -> dict[str, float]:
    """``call(session, item)`` for every item, from ``clients`` threads each with its own
    ``requests`` session taking the next item: the rate from the first call to the last
    answer, and the p50 / p95 of one call."""
    import requests

    queue, lock, latencies, failures = iter(items), threading.Lock(), [], []

    def client() -> None:
        session = requests.Session()
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            t0 = time.perf_counter()
            try:
                call(session, item)
            except Exception as exc:  # noqa: BLE001 - counted, then raised by the caller
                failures.append(exc)
                return
            latencies.append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=client, name=f"bench-client-{n}") for n in range(clients)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - t0
    if failures:
        raise failures[0]
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, round(p / 100 * (len(latencies) - 1)))]  # noqa: E731
    return {"per_s": len(items) / elapsed, "p50_ms": pct(50), "p95_ms": pct(95), "seconds": elapsed}


def _counts(url: str) -> dict[str, int]:
    """What the intake has stored so far, and how many messages break one-reply-each."""
    from tests.support.central import query

    outcomes = dict(query(url, "SELECT outcome, COUNT(*) FROM sms_messages GROUP BY outcome"))
    return {"messages": sum(outcomes.values()), "filed": outcomes.get("filed", 0),
            "status": outcomes.get("status", 0), "other": sum(v for k, v in outcomes.items()
                                                               if k not in ("filed", "status")),
            "reports": query(url, "SELECT COUNT(*) FROM reports WHERE channel = 'sms'")[0][0],
            "replies": query(url, "SELECT COUNT(*) FROM sms_outbox WHERE kind = 'reply'")[0][0],
            "not_one_reply": query(url, "SELECT COUNT(*) FROM sms_messages m WHERE (SELECT COUNT(*) FROM sms_outbox o "
                                        "WHERE o.message_id = m.id AND o.dedupe_key = 'reply:' || m.id) != 1")[0][0]}


def _check(url: str, before: dict[str, int], messages: list[Message]) -> None:
    """The run stored exactly what its messages ask: one row and one reply per distinct
    message, a report per BARUT, nothing for a repeat, nothing limited."""
    after = _counts(url)
    filed = sum(m.verb == "filed" for m in messages)
    status = sum(m.verb == "status" for m in messages)
    expected = {"messages": filed + status, "filed": filed, "status": status, "other": 0, "reports": filed,
                "replies": filed + status, "not_one_reply": 0}
    got = {key: after[key] - before[key] if key != "not_one_reply" else after[key] for key in expected}
    if got != expected:
        raise AssertionError(f"the intake stored {got}, expected {expected}")


def _sms_file(folder: Path) -> Path:
    def secret(name: str, value: str) -> str:
        path = folder / name
        path.write_text(value + "\n", encoding="utf-8")
        path.chmod(0o600)
        return str(path)

    sms_file = folder / "sms.toml"
    sms_file.write_text(f"""
notify_gateway = "{ANDROID}"

[limits]
per_number_per_hour = {LIMITS['per_number_per_hour']}
per_gateway_per_minute = {LIMITS['per_gateway_per_minute']}

[gateways.{ANDROID}]
type = "android"
signing_key_file = "{secret('android.key', SIGNING_KEY)}"
url = "http://127.0.0.1:9"
username = "sms"
password_file = "{secret('android.password', 'bench-password')}"

[gateways.{SMSSYNC}]
type = "smssync"
secret_file = "{secret('smssync.secret', SMSSYNC_SECRET)}"
""", encoding="utf-8")
    return sms_file


def measure(backend: str, url: str, *, count: int = MESSAGES) -> dict[str, object]:
    """Serve with the SMS file, file the reports to ask about, then each client count's run
    of ``count`` messages (checked) and its /healthz baseline."""
    from tests.support.central import query, secret_key_file
    from tests.support.servers import running_central

    rng = random.Random(16)
    with tempfile.TemporaryDirectory() as folder:
        env = {"CENTRAL_SMS_FILE": str(_sms_file(Path(folder))), "CENTRAL_SECRET_KEY_FILE": secret_key_file()}
        with running_central(url, env=env) as base:
            warm = [m for m in plan(FILED_BEFORE, [], rng) if m.verb == "filed"]
            drive(1, warm, lambda session, m: _post(session, base, m).raise_for_status())
            filed = [row[0] for row in query(url, "SELECT tracking_id FROM sms_messages WHERE outcome = 'filed'")]
            drive(1, ["/healthz"] * 50, lambda session, path: session.get(base + path, timeout=60).raise_for_status())
            runs = []
            for clients in CLIENTS:
                messages = plan(count, filed, rng)
                before = _counts(url)

                def post(session, message: Message) -> None:
                    answer = _post(session, base, message)
                    if not _accepted(message, answer):
                        raise AssertionError(f"{message.gateway}: {answer.status_code} {answer.text[:200]}")

                sms = drive(clients, messages, post)
                _check(url, before, messages)
                healthz = drive(clients, ["/healthz"] * count,
                                lambda session, path: session.get(base + path, timeout=60).raise_for_status())
                runs.append({"clients": clients, "sms": sms, "healthz": healthz,
                             "mix": {verb: sum(m.verb == verb for m in messages) for verb in ("filed", "status",
                                                                                                "repeat")}})
    return {"backend": backend, "messages": count, "runs": runs}


def measure_all(count: int = MESSAGES) -> list[dict[str, object]]:
    return on_both_databases(measure, count)


def lines(rows: list[dict[str, object]], machine: str | None = None) -> list[str]:
    """The section of docs/PERFORMANCE.md."""
    mix = rows[0]["runs"][0]["mix"]
    out = [START, "",
           f"SMS intake through the HTTP gateways ({rows[0]['messages']} messages a run: {mix['filed']} BARUT, "
           f"{mix['status']} CEK, {mix['repeat']} repeats; signed Android webhooks and SMSSync forms alternating;",
           "one uvicorn worker on 127.0.0.1; `benchmarks/sms_intake.py`)" + (f", {machine}" if machine else "")
           + f". Goal: at least {GOAL_PER_S} messages a second on one worker.", "",
           "| database | clients | messages, first POST to last reply queued | p50 / p95 of a POST "
           "| baseline: `GET /healthz`, same clients | p50 / p95 | share of the baseline |",
           "|---|---|---|---|---|---|---|"]
    for row in rows:
        for run in row["runs"]:
            sms, health = run["sms"], run["healthz"]
            out.append(f"| {row['backend']} | {run['clients']} | {sms['per_s']:.0f}/s "
                       f"| {sms['p50_ms']:.1f} / {sms['p95_ms']:.1f} ms | {health['per_s']:.0f}/s "
                       f"| {health['p50_ms']:.1f} / {health['p95_ms']:.1f} ms "
                       f"| {sms['per_s'] / health['per_s']:.0%} |")
    out += ["", "Each run is checked afterwards: one `sms_messages` row per distinct message, a report per",
            "BARUT, exactly one reply in `sms_outbox` per message, nothing for a repeat, none limited. The",
            "SMS file's limits are set far above the load (per number 1,000,000 an hour, per gateway",
            "1,000,000 a minute; the defaults are 10 and 600): every message still takes from both buckets,",
            "none is refused. A message is one transaction: the look-up of its key (a repeat stops there),",
            "both rate-limit buckets, the message, its report, the reply, each number and text sealed; on",
            "SQLite one durable commit (`synchronous=FULL`) by one writer at a time, on PostgreSQL a",
            "throwaway cluster with `fsync=off`. A CEK first looks its key up and reads what the public",
            "page reads. The baseline's answer is one `SELECT 1`: the difference is the intake's own work.",
            "", *BEFORE, "", END]
    return out


def main() -> int:
    return run_alone(lambda _reports: measure_all(), lines, START, END)


if __name__ == "__main__":
    raise SystemExit(main())
