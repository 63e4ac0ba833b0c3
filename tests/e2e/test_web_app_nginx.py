"""The board through deploy/nginx/salesbot.conf, as production serves it: nginx ends TLS and
forwards /app/ (the page, its files and its API) to an instance of the bot."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path

import aiohttp
import pytest

from tests.db import POSTGRES_URL, fresh_database
from tests.e2e.conftest import ADMIN_ID, TOKEN
from tests.e2e.nginx_cluster import nginx_cluster
from tests.fake_telegram import running_fake_telegram
from tests.init_data import signed_init_data

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")

# As the cluster test: skipped on a machine without them; in CI (CI=true) it fails without them.
pytestmark = pytest.mark.skipif(
    not os.environ.get("CI")
    and (shutil.which("nginx") is None or not POSTGRES_URL or not REDIS_URL),
    reason="needs nginx, TEST_DATABASE_URL and TEST_REDIS_URL",
)


async def test_the_board_is_served_through_nginx(tmp_path: Path) -> None:
    prefix = f"board-{uuid.uuid4().hex[:8]}"
    async with (
        fresh_database("postgresql", tmp_path) as database_url,
        running_fake_telegram(TOKEN, check_violations=False) as tg,
        nginx_cluster(tg, tmp_path, database_url, REDIS_URL, prefix, 1) as cluster,
        aiohttp.ClientSession() as session,
    ):
        async with session.get(f"{cluster.balancer}/app/", ssl=cluster.tls) as page:
            assert page.status == 200 and "telegram-web-app.js" in await page.text()
        async with session.get(f"{cluster.balancer}/app/static/board.js", ssl=cluster.tls) as js:
            assert js.status == 200
        init_data = signed_init_data(TOKEN, ADMIN_ID, dt.datetime.now(dt.UTC))
        headers = {"Authorization": f"tma {init_data}"}
        url = f"{cluster.balancer}/app/api/board"
        async with session.get(url, headers=headers, ssl=cluster.tls) as answer:
            assert answer.status == 200
            assert (await answer.json())["texts"]["title"] == "Доска"
        async with session.get(url, ssl=cluster.tls) as unsigned:
            assert unsigned.status == 401
        # /healthz and /metrics stay on each instance's own port.
        async with session.get(f"{cluster.balancer}/metrics", ssl=cluster.tls) as hidden:
            assert hidden.status == 404
