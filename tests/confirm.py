"""Raising a step is two presses: the page first shows who will be told, by name."""

from typing import Any

from django.test import Client


def post_and_confirm(client: Client, url: str, data: dict[str, Any]) -> Any:
    """Post a raise or escalate form; where it answers with the list of who will be told,
    press the button again as a person would (posting back the list's signature)."""
    response = client.post(url, data)
    preview = response.context and response.context.get("preview")
    if response.status_code == 200 and preview:
        response = client.post(url, data | {"recipients_seen": preview.signature})
    return response
