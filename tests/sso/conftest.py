from tests.sso.fixtures import (  # noqa: F401
    identity_provider,
    oidc_provider,
    sign_in_with_provider,
    staff_for,
)
