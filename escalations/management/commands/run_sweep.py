from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from escalations.sweep import process_due


class Command(BaseCommand):
    help = "Run the deadline sweep once and print what it did (safe to repeat)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = process_due(timezone.now())
        for line in report.lines():
            self.stdout.write(line)
