"""The Mini App's JSON API under /app/api: thin handlers (parse → use case → JSON) over the
chat's own services and access rule, so a refusal here is the chat's refusal, in its words.

Every call carries Telegram's signed initData (`Authorization: tma <initData>`)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.reminder_input import Refused, local_time, read_when, refusal_of, what_to_remind
from bot.telegram.i18n import pick_locale, tp
from bot.web_app.init_data import InitDataRefused, verified_user
from bot.web_app.keys import ACTOR, APPLICATION
from bot.web_app.views import board_json, deal_json, texts_json
from domain.amounts import parse_amount
from domain.errors import (
    CommentRequired,
    CommentTooLong,
    DealClosed,
    DomainError,
    ExitCriteriaNotMet,
    InvalidAmount,
    PermissionDenied,
)
from domain.roles import Action, Role, can
from services.access import DealNotFound
from services.board import board, deal_details
from services.deals import advance_deal, lose_deal, move_deal_back, win_deal
from services.personal_reminders import ReminderProblem, set_reminder
from services.staff import Actor, Profile, identify, zone_of
from services.workspace import ActivityKind, log_activity
from storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Application

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DEAL_ACTIONS = frozenset(
    {Action.VIEW_OWN_DEALS, Action.VIEW_ALL_DEALS, Action.UPDATE_OWN_DEALS, Action.UPDATE_ANY_DEAL}
)


def refusal(status: int, key: str, **values: Any) -> web.Response:
    return web.json_response({"error": tp(key, **values)}, status=status)


@web.middleware
async def signed_staff_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """initData checked, the person identified as the chat identifies them, their language
    set for the answer's words, and the domain's refusals answered as the chat answers them."""
    application = request.app[APPLICATION]
    settings = application.settings
    scheme, _, init_data = request.headers.get("Authorization", "").partition(" ")
    i18n = application.i18n
    with i18n.context():
        if settings.bot_token is None:  # an empty key would make anyone's signature good
            return refusal(401, "error.forbidden")
        token = settings.bot_token.get_secret_value()
        try:
            user = verified_user(
                token,
                init_data if scheme.lower() == "tma" else None,
                application.clock.now(),
                dt.timedelta(seconds=settings.web_app_max_age_seconds),
            )
        except InitDataRefused:
            return refusal(401, "error.forbidden")
        profile = Profile(user.id, user.first_name or "", user.username, user.language_code)
        locale = pick_locale(user.language_code, i18n.default_locale)
        with i18n.use_locale(locale):
            uow = UnitOfWork(application.session_factory)
            actor = await identify(uow, application.clock, profile, settings.admin_ids)
            if not actor.is_staff:
                return refusal(403, "error.forbidden")
            request[ACTOR] = actor
            return await _answered(request, handler)


async def _answered(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except PermissionDenied as error:
        if error.action in DEAL_ACTIONS:
            return refusal(403, "deal.not_yours")
        return refusal(403, "error.forbidden")
    except DealNotFound as error:
        return refusal(404, "deal.not_found", deal_id=error.deal_id)
    except ExitCriteriaNotMet as error:
        return refusal(409, "card.criteria_missing", count=len(error.missing))
    except DealClosed:
        return refusal(409, "card.closed")
    except CommentRequired:
        return refusal(409, "card.comment_required")
    except CommentTooLong as error:
        return refusal(400, "input.too_long", limit=error.max_length)
    except InvalidAmount:
        return refusal(400, "card.bad_amount", currency=request.app[APPLICATION].book.currency)
    except Refused as refused:
        return refusal(400, refused.key, **refused.values)
    except DomainError:
        return refusal(409, "error.stale_button")


async def get_board(request: web.Request) -> web.Response:
    application = request.app[APPLICATION]
    actor: Actor = request[ACTOR]
    book = application.book
    query = request.query
    pipeline_id = query.get("pipeline") or book.pipelines[0].id
    if pipeline_id not in {p.id for p in book.pipelines}:
        return refusal(400, "error.stale_button")
    supervising = can(actor.role, Action.VIEW_ALL_DEALS)
    found = await board(
        UnitOfWork(application.session_factory),
        application.clock,
        book,
        application.calendar,
        actor,
        pipeline_id=pipeline_id,
        manager_id=_int(query.get("manager")) if supervising else None,
        search=query.get("q", ""),
        overdue_only=query.get("overdue") in {"1", "true"},
    )
    managers: dict[int, str] = {}
    if supervising:
        async with UnitOfWork(application.session_factory) as uow:
            members = await uow.staff.active_with_role(Role.MANAGER)
        managers = {m.telegram_id: m.first_name or str(m.telegram_id) for m in members}
    body = board_json(found, book, application.clock.now(), managers, _zone(request))
    body["texts"] = texts_json()
    return web.json_response(body)


async def get_deal(request: web.Request) -> web.Response:
    application = request.app[APPLICATION]
    deal_id = _int(request.match_info["deal_id"])
    if deal_id is None:
        return refusal(404, "deal.not_found", deal_id=request.match_info["deal_id"])
    details = await deal_details(
        UnitOfWork(application.session_factory),
        application.clock,
        application.book,
        application.calendar,
        request[ACTOR],
        deal_id,
    )
    return web.json_response(deal_json(details, application.book, _zone(request)))


async def post_next_stage(request: web.Request) -> web.Response:
    application = request.app[APPLICATION]
    actor: Actor = request[ACTOR]
    deal_id = _int(request.match_info["deal_id"])
    try:
        body = await request.json()
        ticked = [int(index) for index in body.get("ticked", [])]
    except (json.JSONDecodeError, TypeError, ValueError, AttributeError):
        return refusal(400, "error.stale_button")
    if deal_id is None:
        return refusal(404, "deal.not_found", deal_id=request.match_info["deal_id"])
    uow = UnitOfWork(application.session_factory)
    clock, book, calendar = application.clock, application.book, application.calendar
    await advance_deal(uow, clock, book, calendar, actor, deal_id, ticked)
    _show_in_chat(request, deal_id)
    details = await deal_details(uow, clock, book, calendar, actor, deal_id)
    return web.json_response(deal_json(details, book, _zone(request)))


async def post_back(request: web.Request) -> web.Response:
    """Back to an earlier stage, with the comment the chat also asks for."""
    return await _change(
        request,
        lambda a, uow, deal_id, body: move_deal_back(
            uow,
            a.clock,
            a.book,
            a.calendar,
            request[ACTOR],
            deal_id,
            str(body["stage"]),
            body.get("comment"),
        ),
    )


async def post_won(request: web.Request) -> web.Response:
    return await _change(
        request,
        lambda a, uow, deal_id, body: win_deal(
            uow, a.clock, a.book, request[ACTOR], deal_id, parse_amount(str(body["amount"]))
        ),
    )


async def post_lost(request: web.Request) -> web.Response:
    return await _change(
        request,
        lambda a, uow, deal_id, body: lose_deal(
            uow,
            a.clock,
            a.book,
            request[ACTOR],
            deal_id,
            str(body["reason"]),
            body.get("comment"),
        ),
    )


async def post_note(request: web.Request) -> web.Response:
    return await _change(
        request,
        lambda a, uow, deal_id, body: log_activity(
            uow, a.clock, request[ACTOR], deal_id, ActivityKind.NOTE, str(body["comment"])
        ),
    )


@dataclass(frozen=True, slots=True)
class Notice:
    """What a change says besides the deal it leaves: the chat's confirmation of it."""

    text: str


async def post_reminder(request: web.Request) -> web.Response:
    """A personal reminder on the deal: the time typed (a preset is typed words too) read and
    refused as the chat reads the answer to its "🔔 Напомнить", and confirmed in its words."""

    async def remind(a: Application, uow: UnitOfWork, deal_id: int, body: dict[str, Any]) -> Notice:
        zone = _zone(request)
        when = read_when(_text(body, "when"), a.clock.now(), zone, a.book)
        what = what_to_remind(_text(body, "text"), when)
        try:
            reminder = await set_reminder(uow, a.clock, request[ACTOR], when.at, what, deal_id)
        except ReminderProblem as problem:
            raise refusal_of(problem, when.at, zone) from None
        return Notice(tp("reminder.set", when=local_time(reminder.at, zone), text=reminder.text))

    return await _change(request, remind)


Change = Callable[["Application", UnitOfWork, int, dict[str, Any]], Awaitable[Any]]


async def _change(request: web.Request, change: Change) -> web.Response:
    """Parse the body, make the change through its use case, answer with the deal as it is."""
    application = request.app[APPLICATION]
    deal_id = _int(request.match_info["deal_id"])
    if deal_id is None:
        return refusal(404, "deal.not_found", deal_id=request.match_info["deal_id"])
    uow = UnitOfWork(application.session_factory)
    try:
        body = await request.json()
        if not isinstance(body, dict):
            raise TypeError(body)
        done = await change(application, uow, deal_id, body)
    except (json.JSONDecodeError, TypeError, KeyError):
        return refusal(400, "error.stale_button")
    _show_in_chat(request, deal_id)
    details = await deal_details(
        uow, application.clock, application.book, application.calendar, request[ACTOR], deal_id
    )
    answer = deal_json(details, application.book, _zone(request))
    if isinstance(done, Notice):
        answer["notice"] = done.text
    return web.json_response(answer)


def _show_in_chat(request: web.Request, deal_id: int) -> None:
    """The deal's cards open in staff chats show the change (the app's user's own included: the
    chat is another screen of theirs), in the background."""
    request.app[APPLICATION].open_cards.changed(deal_id)


async def _finish_refreshes(api: web.Application) -> None:
    """At shutdown, before the sender closes: the edits under way go out."""
    application = api[APPLICATION]
    await application.open_cards.finish(application.settings.shutdown_grace_seconds)


def _text(body: dict[str, Any], key: str) -> str:
    """A typed field; absent is empty, anything but text is a forged call."""
    value = body.get(key) or ""
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def _zone(request: web.Request) -> ZoneInfo:
    """The times of the person asking: their own zone, else the team's."""
    return zone_of(request[ACTOR], request.app[APPLICATION].settings.timezone)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def create_api() -> web.Application:
    api = web.Application(middlewares=[signed_staff_only])
    api.on_shutdown.append(_finish_refreshes)
    api.router.add_get("/board", get_board)
    api.router.add_get("/deals/{deal_id}", get_deal)
    api.router.add_post("/deals/{deal_id}/next-stage", post_next_stage)
    api.router.add_post("/deals/{deal_id}/back", post_back)
    api.router.add_post("/deals/{deal_id}/won", post_won)
    api.router.add_post("/deals/{deal_id}/lost", post_lost)
    api.router.add_post("/deals/{deal_id}/note", post_note)
    api.router.add_post("/deals/{deal_id}/reminder", post_reminder)
    return api
