"""The central's SMS settings for tests (a Gammu modem and an SMSSync phone), and numbers
as a gateway writes them."""
from __future__ import annotations

import random
from pathlib import Path

#: The SMSSync phone's shared secret in these settings.
SMSSYNC_SECRET = "rahasia-kabupaten-barito-utara"


def sms_file(folder: Path, *, per_number_per_hour: int = 10, status_url: str | None = None) -> str:
    """``folder/sms.toml``: keyword BARUT, issuer 0767, 90 days' retention, notices through
    the Gammu modem ``modem``, an SMSSync phone ``hp``; ``status_url`` goes into replies."""
    path = folder / "sms.toml"
    secret = folder / "smssync.secret"
    secret.write_text(SMSSYNC_SECRET + "\n", encoding="utf-8")
    status = f'status_url = "{status_url}"\n' if status_url else ""
    path.write_text(f'keyword = "BARUT"\nissuer = "0767"\nretention_days = 90\n{status}notify_gateway = "modem"\n'
                    f'[limits]\nper_number_per_hour = {per_number_per_hour}\nper_gateway_per_minute = 5000\n'
                    f'[gateways.modem]\ntype = "gammu"\n[gateways.hp]\ntype = "smssync"\nsecret_file = "{secret}"\n',
                    encoding="utf-8")
    return str(path)


def a_number() -> str:
    """A new Indonesian mobile number, as a gateway may write it (0812...)."""
    return "0812" + "".join(random.choice("0123456789") for _ in range(8))
