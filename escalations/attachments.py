"""Checks on uploaded files: allowed types (by name and by content) and size."""

from __future__ import annotations

from io import BytesIO
from pathlib import PurePath
from typing import Any, NamedTuple

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler

# extension -> (content type, how the file must start)
ALLOWED: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".odt": ("application/vnd.oasis.opendocument.text", (b"PK\x03\x04",)),
    ".doc": ("application/msword", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".txt": ("text/plain", ()),
}
ALLOWED_LABEL = "PDF, Word (.docx or .doc), OpenDocument text (.odt), PNG, JPEG or plain text"


class AttachmentRefused(ValueError):
    pass


class CheckedUpload(NamedTuple):
    """What check_upload found: the name to keep, the type, and the (non-zero) size."""

    name: str
    content_type: str
    size: int


def check_upload(upload: UploadedFile) -> CheckedUpload:
    """Return the upload's safe original name, content type and size, or raise
    AttachmentRefused in plain words."""
    name = PurePath(upload.name or "file").name[:150] or "file"
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size is None or upload.size == 0:
        raise AttachmentRefused(f"“{name}” is empty.")
    if upload.size > limit:
        raise AttachmentRefused(
            f"“{name}” is larger than {limit / (1024 * 1024):g} MB. Send a smaller file."
        )
    extension = PurePath(name).suffix.lower()
    if extension not in ALLOWED:
        raise AttachmentRefused(f"“{name}” is not an allowed type. Use {ALLOWED_LABEL}.")
    content_type, signatures = ALLOWED[extension]
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    if signatures and not head.startswith(signatures):
        raise AttachmentRefused(f"“{name}” is not really a {extension[1:].upper()} file.")
    if not signatures and b"\x00" in head:
        raise AttachmentRefused(f"“{name}” is not a plain text file.")
    return CheckedUpload(name, content_type, upload.size)


class OversizedUpload(UploadedFile):
    """Stands in for a file that passed the size limit while arriving: none of it was kept,
    and its size reads as just over the limit so check_upload refuses it in plain words."""

    def __init__(self, name: str | None, content_type: str | None, charset: str | None) -> None:
        super().__init__(
            BytesIO(b""), name, content_type, settings.ATTACHMENT_MAX_BYTES + 1, charset
        )


class AttachmentLimitUploadHandler(TemporaryFileUploadHandler):
    """Writes an uploaded file to disk only up to the attachment limit (FILE_UPLOAD_HANDLERS).

    Past the limit it deletes what it wrote and drops the rest as it streams by, so a huge
    file never reaches the disk. It does not stop reading the request: cutting the
    connection mid-upload makes browsers show a network error instead of our message. The
    request body as a whole is already bounded by its Content-Length, checked before any
    of it is read (config/http_guards.py).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.over_limit = False

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.over_limit = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self.over_limit:
            return None
        if start + len(raw_data) > settings.ATTACHMENT_MAX_BYTES:
            self.over_limit = True
            self.file.close()  # a named temporary file: closing it deletes it
            return None
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.over_limit:
            return OversizedUpload(self.file_name, self.content_type, self.charset)
        return super().file_complete(file_size)
