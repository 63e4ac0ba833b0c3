"""Round-robin assignment of new leads to the managers serving a pipeline."""

from __future__ import annotations

from collections.abc import Iterable


def pick_next_manager(candidate_ids: Iterable[int], last_assigned_id: int | None) -> int | None:
    """The manager who gets the next lead, or None when nobody can take it (queue it).

    Candidates are the active managers serving the pipeline, in any order; the ring is ordered
    by id so the choice does not depend on how storage happened to sort them. The next manager
    is the first id after the last one assigned, wrapping around. When the last assignee has
    left the ring (deactivated, moved to another pipeline) this is still "the next id after
    theirs", so the turn passes on as if they had been skipped instead of restarting at the
    smallest id, which would favour the managers with small ids.
    """
    ring = sorted(set(candidate_ids))
    if not ring:
        return None
    if last_assigned_id is None:
        return ring[0]
    for manager_id in ring:
        if manager_id > last_assigned_id:
            return manager_id
    return ring[0]
