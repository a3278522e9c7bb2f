"""What the test provider says about a person, as a council's provider would."""

from typing import Any
from uuid import NAMESPACE_URL, uuid5

# People in this group did MFA at the provider (their ID token's amr says so).
MFA_GROUP = "mfa"


def object_id(user: Any) -> str:
    """An Entra ID-style `oid`: stable, and not the same as `sub`."""
    return str(uuid5(NAMESPACE_URL, f"test-provider:{user.pk}"))


def userinfo(claims: dict[str, Any], user: Any) -> dict[str, Any]:
    claims.update(
        email=user.email,
        email_verified=True,
        name=user.get_full_name(),
        given_name=user.first_name,
        family_name=user.last_name,
    )
    return claims


def id_token(token_claims: dict[str, Any], user: Any, **kwargs: Any) -> dict[str, Any]:
    mfa = user.groups.filter(name=MFA_GROUP).exists()
    token_claims["amr"] = ["pwd", "mfa"] if mfa else ["pwd"]
    token_claims["oid"] = object_id(user)
    return token_claims
