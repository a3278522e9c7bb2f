"""Bodies too large are refused before they are read; uploads stop being kept at the limit."""

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client, override_settings
from django.urls import reverse

from escalations.models import Attachment
from escalations.services import MAX_ATTACHMENTS
from tests.config.conftest import PDF


class CountingStream:
    """Stands for a client still sending: records how much of the body was read."""

    def __init__(self) -> None:
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        chunk = b"x" * (65536 if size is None or size < 0 else min(size, 65536))
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def test_a_body_over_the_limit_is_refused_unread_with_a_plain_page(client):
    body = CountingStream()

    response = client.post(
        reverse("login"),
        data=b"",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(200 * 1024 * 1024),
        **{"wsgi.input": body},
    )

    assert response.status_code == 413
    assert "What you sent is too large" in response.content.decode()
    assert "Nothing was saved" in response.content.decode()
    assert body.bytes_read == 0


def test_the_body_limit_leaves_room_for_a_response_with_all_its_attachments():
    largest_response = MAX_ATTACHMENTS * settings.ATTACHMENT_MAX_BYTES
    assert largest_response < settings.REQUEST_BODY_MAX_BYTES <= 60 * 1024 * 1024


@override_settings(ATTACHMENT_MAX_BYTES=64 * 1024, FILE_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_an_upload_is_kept_only_up_to_the_attachment_limit(raised, monkeypatch):
    kept = []
    keep = TemporaryFileUploadHandler.receive_data_chunk

    def counting(handler, raw_data, start):
        kept.append(len(raw_data))
        return keep(handler, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", counting)
    client = Client()
    client.force_login(raised.manager.user)
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (1024 * 1024), "application/pdf")

    response = client.post(
        reverse("escalations:respond", args=[raised.step.pk]),
        {"response": "Here are the notes.", "attachments": [big]},
    )

    assert sum(kept) <= 64 * 1024
    assert response.status_code == 200
    assert "“big.pdf” is larger than" in response.content.decode()
    assert Attachment.objects.count() == 0
    raised.step.refresh_from_db()
    assert raised.step.responded_at is None
