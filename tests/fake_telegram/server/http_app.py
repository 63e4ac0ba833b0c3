"""The HTTP face of the fake Telegram: routes, reading a call, dispatching it, answering.

Every call is decoded and validated against the bundled Bot API spec, recorded in
``calls``, passed through the injected faults, and handed to its implementation; an error
answer that real Telegram would give for a broken rule is also recorded as a violation.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Mapping
from typing import Any, Self

from aiohttp import web

from ..spec import DecodedCall, SpecError, UploadedFile
from .errors import ApiError, bad_request
from .injections import FaultInjection
from .records import JSON, Call

logger = logging.getLogger(__name__)


class HttpApp(FaultInjection):
    """Serves the Bot API over HTTP on a local port."""

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the fake Telegram server is not started")
        return self._base_url

    async def start(self) -> str:
        """Listen on ``port`` of ``host`` (a random free one for 0); return the base URL for
        aiogram."""
        if self._runner is not None:
            return self.base_url
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        # handler_cancellation: a long poll whose client went away (e.g. dp.stop_polling())
        # must not linger and answer "409 Conflict" to the next poller.
        runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        port = int(runner.addresses[0][1])
        self._runner = runner
        self._stopping = False
        self._base_url = f"http://{self.host}:{port}"
        return self._base_url

    async def stop(self) -> None:
        self._stopping = True
        self._notify()
        await self._stop_delivering()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        return self._json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.file_path == path:
                return web.Response(
                    body=stored.data or b"\0" * 16,
                    content_type=stored.mime_type or "application/octet-stream",
                )
        return self._json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    async def _handle_api(self, request: web.Request) -> web.Response:
        method_name = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        spec = self.spec.find_method(method_name)
        is_poll = spec is not None and spec.name == "getUpdates"
        if not is_poll:
            self._inflight += 1
            self._touch()
        try:
            call = Call(method=spec.name if spec else method_name, params={})
            call.seq = len(self.calls) + 1
            call.at = asyncio.get_running_loop().time()
            recorded = False
            try:
                raw, attachments, typed = await self._read_params(request)
                call.params = {k: v for k, v in raw.items() if not isinstance(v, UploadedFile)}
                if spec is None:
                    raise ApiError(404, "Not Found")
                decoded = self._decode(spec.name, raw, attachments, typed)
                call.params, call.files = decoded.params, decoded.files
                self.calls.append(call)
                recorded = True
                self._notify()
                await self._check_injected(spec.name, call.params.get("chat_id"))
                self._check_flood(call)
                try:
                    result = await self._dispatch(call)
                except asyncio.CancelledError:
                    call.status, call.error = 499, "client disconnected"
                    raise
                if self.self_check:
                    self._self_check(result, spec.returns, f"result of {spec.name}")
            except ApiError as error:
                if not recorded:
                    self.calls.append(call)
                return self._error_response(call, error)
            except Exception as error:  # a bug of the fake: make it loud but keep JSON answers
                logger.exception("fake telegram crashed on %s", call.method)
                self.internal_errors.append(f"{call.method}: {type(error).__name__}: {error}")
                if not recorded:
                    self.calls.append(call)
                return self._error_response(
                    call,
                    ApiError(
                        500, f"Internal Server Error: fake Telegram bug: {error!r}", violation=False
                    ),
                )
            call.result = result
            self._notify()
            return self._json({"ok": True, "result": result}, 200)
        finally:
            if not is_poll:
                self._inflight -= 1
                self._touch()

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, UploadedFile], bool]:
        raw: dict[str, Any] = dict(request.query)
        attachments: dict[str, UploadedFile] = {}
        typed = False
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise bad_request("JSON request body must be an object")
                raw.update(body)
                typed = True
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        upload = UploadedFile(
                            name=key,
                            filename=value.filename,
                            content_type=value.content_type,
                            data=value.file.read(),
                        )
                        attachments[key] = upload
                        raw[key] = upload
                    else:
                        raw[key] = value if isinstance(value, str) else bytes(value).decode()
        return raw, attachments, typed

    def _decode(
        self,
        method: str,
        raw: Mapping[str, Any],
        attachments: Mapping[str, UploadedFile],
        typed: bool,
    ) -> DecodedCall:
        spec = self.spec.methods[method]
        try:
            return self.spec.decode_call(spec, raw, attachments, typed=typed)
        except SpecError as error:
            raise ApiError(error.status, error.description, violation=True) from None

    async def _dispatch(self, call: Call) -> Any:
        impl = self._impl.get(call.method)
        if impl is None:
            raise ApiError(
                400,
                f"Bad Request: method {call.method} is not implemented by the fake Telegram "
                "server (tests/fake_telegram/server/)",
                violation=True,
            )
        if "business_connection_id" in call.params and not call.method.startswith("get"):
            self._business_call(call)
        result = impl(call)
        if isinstance(result, Awaitable):
            return await result
        return result

    def _error_response(self, call: Call, error: ApiError) -> web.Response:
        call.status = error.status
        call.error = error.description
        if error.violation:
            where = f"(chat_id={call.params['chat_id']})" if "chat_id" in call.params else ""
            self.violations.append(f"{call.method}{where}: {error.description}")
            logger.warning("fake telegram violation: %s: %s", call.method, error.description)
        body: JSON = {"ok": False, "error_code": error.status, "description": error.description}
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        self._notify()
        return self._json(body, error.status)

    @staticmethod
    def _json(body: JSON, status: int) -> web.Response:
        return web.Response(
            text=json.dumps(body, ensure_ascii=False),
            status=status,
            content_type="application/json",
        )
