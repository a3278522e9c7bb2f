from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from policies.ladder_files import export_policy
from policies.models import Policy


class Command(BaseCommand):
    help = "Write one policy back as a ladder file (YAML)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The policy's slug, e.g. rutland.")
        parser.add_argument(
            "--output", "-o", type=Path, help="Write to this file (default: print)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        policy = Policy.objects.select_related("authority").filter(slug=options["slug"]).first()
        if policy is None:
            known = ", ".join(Policy.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(
                f"No policy with the slug {options['slug']!r}. Known: {known or 'none'}."
            )
        text = export_policy(policy)
        if options["output"]:
            try:
                options["output"].write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CommandError(
                    f"{options['output']}: cannot be written ({exc.strerror})."
                ) from None
            self.stdout.write(f"Wrote {options['output']}.")
        else:
            self.stdout.write(text, ending="")
