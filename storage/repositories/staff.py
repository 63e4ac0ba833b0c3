"""Staff members and which pipelines each manager serves; the round robin's memory."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.roles import Role
from domain.staff import StaffMember
from storage.database import upsert_insert
from storage.models import AssignmentCursor, StaffPipeline, StaffRow
from storage.sqlite_in_loop import shared_with_other_processes
from storage.upserts import upsert

# Built once: every request runs them (see storage/repositories/contacts.py).
_SERVING = (
    select(StaffRow.telegram_id, StaffRow.language_code)
    .join(StaffPipeline, StaffPipeline.staff_id == StaffRow.telegram_id)
    .where(
        StaffPipeline.pipeline_id == bindparam("pipeline_id"),
        StaffRow.role == Role.MANAGER.value,
        StaffRow.is_active.is_(True),
        StaffRow.is_reachable.is_(True),
    )
    .order_by(StaffRow.telegram_id)
)
_ROUND_ROBIN_CANDIDATES = _SERVING.add_columns(
    select(AssignmentCursor.last_manager_id)
    .where(AssignmentCursor.pipeline_id == bindparam("pipeline_id"))
    .scalar_subquery()
    .label("last_manager_id")
)
_REMEMBER_ROUND_ROBIN = upsert(
    AssignmentCursor,
    columns=["pipeline_id", "last_manager_id"],
    conflict=["pipeline_id"],
    update=["last_manager_id"],
)


class StaffRepository:
    """Staff members as `domain.staff.StaffMember`."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._loaded: dict[int, StaffRow] = {}

    async def get(self, telegram_id: int) -> StaffMember | None:
        # The session's identity map answers a second read without a query while `_loaded`
        # holds the row.
        row = await self._session.get(StaffRow, telegram_id)
        return self._held(row) if row else None

    async def names(self, telegram_ids: Sequence[int]) -> dict[int, str | None]:
        """First names by Telegram id, in one query."""
        if not telegram_ids:
            return {}
        rows = await self._session.execute(
            select(StaffRow.telegram_id, StaffRow.first_name).where(
                StaffRow.telegram_id.in_(telegram_ids)
            )
        )
        return {telegram_id: name for telegram_id, name in rows.tuples()}

    async def many(self, telegram_ids: Sequence[int]) -> dict[int, StaffMember]:
        """Several members in one query."""
        if not telegram_ids:
            return {}
        rows = await self._session.scalars(
            select(StaffRow).where(StaffRow.telegram_id.in_(telegram_ids))
        )
        return {row.telegram_id: self._held(row) for row in rows}

    async def add(self, member: StaffMember) -> None:
        """Store a new staff member (at once: their pipelines refer to them)."""
        row = StaffRow()
        _copy_member_to_row(member, row)
        self._session.add(row)
        await self._session.flush()
        self._loaded[member.telegram_id] = row

    async def save(self, member: StaffMember) -> None:
        row = self._loaded.get(member.telegram_id) or await self._session.get(
            StaffRow, member.telegram_id
        )
        if row is None:
            raise LookupError(member.telegram_id)
        _copy_member_to_row(member, row)

    async def members(self, *, active_only: bool = False) -> list[StaffMember]:
        query = select(StaffRow).order_by(StaffRow.role, StaffRow.joined_at)
        if active_only:
            query = query.where(StaffRow.is_active.is_(True))
        return [self._held(row) for row in await self._session.scalars(query)]

    async def active_with_role(self, role: Role) -> list[StaffMember]:
        query = (
            select(StaffRow)
            .where(StaffRow.role == role.value, StaffRow.is_active.is_(True))
            .order_by(StaffRow.telegram_id)
        )
        return [self._held(row) for row in await self._session.scalars(query)]

    async def set_pipelines(self, telegram_id: int, pipeline_ids: Sequence[str]) -> None:
        existing = await self._session.scalars(
            select(StaffPipeline).where(StaffPipeline.staff_id == telegram_id)
        )
        for link in existing:
            await self._session.delete(link)
        for pipeline_id in pipeline_ids:
            self._session.add(StaffPipeline(staff_id=telegram_id, pipeline_id=pipeline_id))

    async def managers_serving(self, pipeline_id: str) -> list[int]:
        """Active, reachable managers of a pipeline, by id (the round robin's order)."""
        return list(await self.languages_of_managers_serving(pipeline_id))

    async def languages_of_managers_serving(self, pipeline_id: str) -> dict[int, str | None]:
        """Active, reachable managers of a pipeline in the round robin's order (by id), each with
        their language, so the one picked can be written to without another query."""
        rows = await self._session.execute(_SERVING, {"pipeline_id": pipeline_id})
        return {row.telegram_id: row.language_code for row in rows}

    async def round_robin_candidates(
        self, pipeline_id: str
    ) -> tuple[dict[int, str | None], int | None]:
        """The pipeline's active, reachable managers in the round robin's order, each with their
        language, and who got its last lead: one query.

        On PostgreSQL, where several instances file leads at once, the cursor's row is first
        taken (created if need be) and locked until the transaction ends, so two requests at
        the same moment read the cursor one after the other and no turn is lost. The same on a
        SQLite file several workers write (WORKERS): there the write takes the file's lock."""
        dialect = self._session.get_bind().dialect.name
        if dialect == "postgresql" or shared_with_other_processes():
            return await self._round_robin_locked(pipeline_id, dialect)
        rows = (
            await self._session.execute(_ROUND_ROBIN_CANDIDATES, {"pipeline_id": pipeline_id})
        ).all()
        languages = {row.telegram_id: row.language_code for row in rows}
        return languages, (rows[0].last_manager_id if rows else None)

    async def _round_robin_locked(
        self, pipeline_id: str, dialect: str
    ) -> tuple[dict[int, str | None], int | None]:
        insert = upsert_insert(dialect)
        take_cursor = (
            insert(AssignmentCursor)
            .values(pipeline_id=pipeline_id, last_manager_id=None)
            .on_conflict_do_update(
                # Writes the row unchanged: the point is its lock, and the latest committed
                # value it returns after waiting for a concurrent request's transaction.
                index_elements=[AssignmentCursor.pipeline_id],
                set_={"last_manager_id": AssignmentCursor.last_manager_id},
            )
            .returning(AssignmentCursor.last_manager_id)
        )
        last: int | None = await self._session.scalar(take_cursor)
        rows = (await self._session.execute(_SERVING, {"pipeline_id": pipeline_id})).all()
        return {row.telegram_id: row.language_code for row in rows}, last

    async def remember_round_robin(self, pipeline_id: str, manager_id: int) -> None:
        """Who got the pipeline's last lead, in one upsert."""
        await self._session.execute(
            _REMEMBER_ROUND_ROBIN, {"pipeline_id": pipeline_id, "last_manager_id": manager_id}
        )

    async def last_assigned(self, pipeline_id: str) -> int | None:
        cursor = await self._session.get(AssignmentCursor, pipeline_id)
        return cursor.last_manager_id if cursor else None

    def _held(self, row: StaffRow) -> StaffMember:
        # Held for `save`: a member read, changed and saved is read once.
        self._loaded[row.telegram_id] = row
        return _member_from_row(row)


def _copy_member_to_row(member: StaffMember, row: StaffRow) -> None:
    row.telegram_id = member.telegram_id
    row.role = member.role.value
    row.first_name = member.first_name
    row.username = member.username
    row.language_code = member.language_code
    row.timezone = member.timezone
    row.is_active = member.is_active
    row.is_reachable = member.is_reachable
    row.joined_at = member.joined_at
    row.deactivated_at = member.deactivated_at


def _member_from_row(row: StaffRow) -> StaffMember:
    return StaffMember(
        telegram_id=row.telegram_id,
        role=Role(row.role),
        first_name=row.first_name,
        username=row.username,
        language_code=row.language_code,
        timezone=row.timezone,
        is_active=row.is_active,
        is_reachable=row.is_reachable,
        joined_at=row.joined_at,
        deactivated_at=row.deactivated_at,
    )
