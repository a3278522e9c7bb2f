"""Static files collect under production's manifest storage (the image build's step)."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

PRODUCTION_STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def test_collectstatic_with_the_manifest_storage_finds_every_file_the_css_refers_to(
    tmp_path: Path,
) -> None:
    # It refuses CSS that refers to a file not shipped (as the GOV.UK crest once was).
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=PRODUCTION_STORAGES):
        call_command("collectstatic", interactive=False, verbosity=0)

    manifest = (tmp_path / "staticfiles.json").read_text()
    assert "govuk/images/favicon.svg" in manifest
    assert "govuk/govuk-frontend.min.css" in manifest
