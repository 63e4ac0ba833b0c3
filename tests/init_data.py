"""initData signed as Telegram signs it, for tests of the Mini App: written from Telegram's
documentation independently of aiogram's checker, so the two cannot share a mistake."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from urllib.parse import urlencode


def signed_init_data(
    token: str,
    user_id: int,
    auth_date: dt.datetime,
    *,
    first_name: str = "Тест",
    language_code: str = "ru",
) -> str:
    user = {"id": user_id, "first_name": first_name, "language_code": language_code}
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
        "auth_date": str(int(auth_date.timestamp())),
    }
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)
