"""Checks on uploaded files: allowed types (by name and by content) and size."""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

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


def check_upload(upload: UploadedFile) -> tuple[str, str]:
    """Return (safe original name, content type) or raise AttachmentRefused in plain words."""
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
    return name, content_type
