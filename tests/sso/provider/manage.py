#!/usr/bin/env python
"""A council's OpenID Connect provider, for the single sign-on tests only (django-oidc-provider).

Its own Django project, database and process: tests/sso/conftest.py starts it with
`runserver` on 127.0.0.1 and seeds it with `seed_provider`.
"""

import os
import sys

if __name__ == "__main__":
    os.environ["DJANGO_SETTINGS_MODULE"] = "provider_site.settings"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
