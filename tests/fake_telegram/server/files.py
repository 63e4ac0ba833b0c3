"""Files: the ones the bot uploads or names by file_id, and getFile."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from ..spec import UploadedFile
from .errors import bad_request
from .records import JSON, Call, StoredFile
from .state import ServerState


class FileStore(ServerState):
    """Files known to the server, and their Bot API shape in a message."""

    def register_file(
        self,
        kind: str,
        *,
        data: bytes | None = None,
        filename: str | None = None,
        mime_type: str | None = None,
        file_id: str | None = None,
    ) -> StoredFile:
        """Make a file known to the server (so the bot may send it by file_id)."""
        number = next(self._file_counter)
        digest = hashlib.sha1(f"{kind}:{number}:{file_id}".encode()).hexdigest()
        stored = StoredFile(
            file_id=file_id or f"{kind.upper()}-{number}-{digest[:16]}",
            file_unique_id=f"U{digest[:12]}",
            kind=kind,
            data=data,
            filename=filename,
            mime_type=mime_type,
            file_path=f"{kind}s/file_{number}",
        )
        self.files[stored.file_id] = stored
        return stored

    def _file_param(self, value: Any, files: Mapping[str, UploadedFile], kind: str) -> StoredFile:
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"file {value} was not uploaded")
            if not upload.data:
                raise bad_request("file must be non-empty")
            return self.register_file(
                kind, data=upload.data, filename=upload.filename, mime_type=upload.content_type
            )
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        if isinstance(value, str) and re.match(r"^https?://", value):
            return self.register_file(kind, filename=value.rsplit("/", 1)[-1] or None)
        raise bad_request("wrong file identifier/HTTP URL specified")

    @staticmethod
    def file_content(stored: StoredFile, kind: str) -> JSON:
        base: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        if kind == "photo":
            small = {**base, "width": 90, "height": 67}
            small["file_size"] = max(stored.size // 10, 1)
            return {"photo": [small, {**base, "width": 800, "height": 600}]}
        if kind == "document":
            document = dict(base)
            if stored.filename:
                document["file_name"] = stored.filename
            if stored.mime_type:
                document["mime_type"] = stored.mime_type
            return {"document": document}
        if kind in ("video", "animation"):
            return {kind: {**base, "width": 640, "height": 480, "duration": 1}}
        if kind in ("audio", "voice"):
            return {kind: {**base, "duration": 1}}
        if kind == "sticker":
            return {
                "sticker": {
                    **base,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "👍",
                }
            }
        return {kind: base}

    def _get_file(self, call: Call) -> JSON:
        stored = self.files.get(call.params["file_id"])
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }
