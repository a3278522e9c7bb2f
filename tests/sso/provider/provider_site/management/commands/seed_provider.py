"""Register the app as a client and create the provider's people; prints their claims."""

import io
import json
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand
from oidc_provider.models import Client, ResponseType, RSAKey

from provider_site.hooks import MFA_GROUP, object_id


class Command(BaseCommand):
    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", required=True)
        parser.add_argument("--redirect-uri", action="append", default=[])
        parser.add_argument("--password", required=True)
        parser.add_argument(
            "--person",
            action="append",
            default=[],
            help="username:email[:mfa]",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not RSAKey.objects.exists():
            call_command("creatersakey", stdout=io.StringIO())
        client, _ = Client.objects.get_or_create(
            client_id=options["client_id"],
            defaults={"name": "Escalation manager", "client_type": "confidential"},
        )
        client.client_secret = options["client_secret"]
        client.redirect_uris = sorted({*client.redirect_uris, *options["redirect_uri"]})
        client.require_consent = False
        client.jwt_alg = "RS256"
        client.save()
        client.response_types.add(ResponseType.objects.get(value="code"))

        mfa, _ = Group.objects.get_or_create(name=MFA_GROUP)
        people = {}
        for spec in options["person"]:
            username, email, *flags = spec.split(":")
            user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
            user.email = email
            user.set_password(options["password"])
            user.save()
            if "mfa" in flags:
                user.groups.add(mfa)
            people[username] = {"sub": str(user.pk), "oid": object_id(user), "email": email}
        self.stdout.write(json.dumps(people))
