"""Staff members and which pipelines each manager serves; the round robin's memory."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.roles import Role
from storage.models import (
    AssignmentCursor,
    StaffMember,
    StaffPipeline,
)


class StaffRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, telegram_id: int) -> StaffMember | None:
        return await self._session.get(StaffMember, telegram_id)

    async def names(self, telegram_ids: Sequence[int]) -> dict[int, str | None]:
        """First names by Telegram id, in one query."""
        if not telegram_ids:
            return {}
        rows = await self._session.execute(
            select(StaffMember.telegram_id, StaffMember.first_name).where(
                StaffMember.telegram_id.in_(telegram_ids)
            )
        )
        return {telegram_id: name for telegram_id, name in rows.tuples()}

    def add(self, member: StaffMember) -> None:
        self._session.add(member)

    async def members(self, *, active_only: bool = False) -> Sequence[StaffMember]:
        query = select(StaffMember).order_by(StaffMember.role, StaffMember.joined_at)
        if active_only:
            query = query.where(StaffMember.is_active.is_(True))
        return (await self._session.scalars(query)).all()

    async def active_with_role(self, role: Role) -> Sequence[StaffMember]:
        query = (
            select(StaffMember)
            .where(StaffMember.role == role.value, StaffMember.is_active.is_(True))
            .order_by(StaffMember.telegram_id)
        )
        return (await self._session.scalars(query)).all()

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
        rows = await self._session.execute(self._serving(pipeline_id))
        return {row.telegram_id: row.language_code for row in rows}

    @staticmethod
    def _serving(pipeline_id: str) -> Select[tuple[int, str | None]]:
        return (
            select(StaffMember.telegram_id, StaffMember.language_code)
            .join(StaffPipeline, StaffPipeline.staff_id == StaffMember.telegram_id)
            .where(
                StaffPipeline.pipeline_id == pipeline_id,
                StaffMember.role == Role.MANAGER.value,
                StaffMember.is_active.is_(True),
                StaffMember.is_reachable.is_(True),
            )
            .order_by(StaffMember.telegram_id)
        )

    async def round_robin_candidates(
        self, pipeline_id: str
    ) -> tuple[dict[int, str | None], int | None]:
        """The pipeline's active, reachable managers in the round robin's order, each with their
        language, and who got its last lead: one query."""
        last = (
            select(AssignmentCursor.last_manager_id)
            .where(AssignmentCursor.pipeline_id == pipeline_id)
            .scalar_subquery()
        )
        rows = (
            await self._session.execute(
                self._serving(pipeline_id).add_columns(last.label("last_manager_id"))
            )
        ).all()
        languages = {row.telegram_id: row.language_code for row in rows}
        return languages, (rows[0].last_manager_id if rows else None)

    async def remember_round_robin(self, pipeline_id: str, manager_id: int) -> None:
        """Who got the pipeline's last lead, in one upsert."""
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await self._session.execute(
            insert(AssignmentCursor)
            .values(pipeline_id=pipeline_id, last_manager_id=manager_id)
            .on_conflict_do_update(
                index_elements=[AssignmentCursor.pipeline_id],
                set_={"last_manager_id": manager_id},
            )
        )

    async def last_assigned(self, pipeline_id: str) -> int | None:
        cursor = await self._session.get(AssignmentCursor, pipeline_id)
        return cursor.last_manager_id if cursor else None
