"""The deals repository's statements that are built once, and the conditions its lists share."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, bindparam, func, select

from domain.deal import DealStatus
from storage.models import DealRow


def _open_deal_and_requests(any_chat: bool) -> Select[tuple[int | None, int]]:
    """The contact's latest open deal (in the chat, or in any of theirs) and the chat's requests
    since a moment, in one statement, built once (the request path runs it for every lead)."""
    own = DealRow.contact_id == bindparam("contact_id")
    if not any_chat:
        own = own & (DealRow.lead_chat_id == bindparam("lead_chat_id"))
    latest_open = (
        select(DealRow.id)
        .where(own, DealRow.status == DealStatus.OPEN.value)
        .order_by(DealRow.created_at.desc(), DealRow.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(latest_open, REQUESTS_SINCE.scalar_subquery())


REQUESTS_SINCE = select(func.count(DealRow.id)).where(
    DealRow.lead_chat_id == bindparam("lead_chat_id"), DealRow.created_at >= bindparam("since")
)
OPEN_DEAL_AND_REQUESTS = _open_deal_and_requests(any_chat=False)
OPEN_DEAL_ANY_CHAT_AND_REQUESTS = _open_deal_and_requests(any_chat=True)


def open_deal_filters(
    *, manager_id: int | None = None, stage_id: str | None = None, queued: bool = False
) -> list[ColumnElement[bool]]:
    """Open deals (no trainee's): one manager's, one stage's, or only those nobody manages."""
    where = [DealRow.status == DealStatus.OPEN.value, DealRow.is_sandbox.is_(False)]
    if manager_id is not None:
        where.append(DealRow.manager_id == manager_id)
    if queued:
        where.append(DealRow.manager_id.is_(None))
    if stage_id is not None:
        where.append(DealRow.stage_id == stage_id)
    return where
