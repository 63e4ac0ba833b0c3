"""How the fake Telegram refuses a call: the Bot API's error answer and its standard texts."""

from __future__ import annotations

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        violation: bool | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.violation = status in (400, 404, 409) if violation is None else violation


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")
