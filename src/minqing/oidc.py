"""Sign-in through an identity provider (OpenID Connect): claims to a role and units.

A server deployment can let Streamlit's ``st.login`` do the sign-in. Which role
and which units a person gets is then read from the ID token's claims, by the
table ``[minqing_oidc]`` of ``.streamlit/secrets.toml`` (see the README)::

    [minqing_oidc]
    provider = "keycloak"            # the [auth.keycloak] section Streamlit signs in with
    name_claim = "preferred_username"
    role_claim = "groups"            # a string or a list of strings
    grid_claim = "minqing_grids"     # a leader's grid codes (string "a,b" or list)
    community_claim = "minqing_communities"
    [minqing_oidc.roles]             # claim value -> role; the strongest match wins
    "minqing-admins" = "admin"
    "minqing-planners" = "planner"
    "grid-leaders" = "grid_leader"
    "joint-meeting" = "meeting"

Nobody gets a role that is not mapped: an unknown person is refused, not let in
as a viewer. Pure functions here; the page side is :mod:`minqing.ui.signin`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from minqing.auth import ROLES, ScopeError, User
from minqing.config import SECRETS_FILE, setting

AUTH_ENV = "MINQING_AUTH"
"""``password`` (the default: accounts in the store) or ``oidc``."""
AUTH_MODES = ("password", "oidc")
_STRENGTH = {role: i for i, role in enumerate(ROLES)}  # admin first: the strongest


class OIDCError(ScopeError):
    """The identity provider's claims give no role, or the settings are incomplete."""

    key = "signin.error_oidc"


def auth_mode(secrets_file: Path | str | None = None) -> str:
    """Return how people sign in: ``password`` or ``oidc`` (``MINQING_AUTH``)."""
    mode = (setting(AUTH_ENV, secrets_file) or "password").strip().lower()
    if mode not in AUTH_MODES:
        raise OIDCError(f"{AUTH_ENV}={mode!r} is not a sign-in mode; allowed: {', '.join(AUTH_MODES)}",
                        value=mode)
    return mode


def oidc_settings(secrets_file: Path | str | None = None) -> dict:
    """Return the ``[minqing_oidc]`` table of the secrets file (empty if there is none)."""
    path = Path(secrets_file) if secrets_file else SECRETS_FILE
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return dict(tomllib.load(fh).get("minqing_oidc", {}))


def _values(claim) -> list[str]:
    if claim is None:
        return []
    if isinstance(claim, str):
        return [v.strip() for v in claim.split(",") if v.strip()]
    if isinstance(claim, (list, tuple)):
        return [str(v).strip() for v in claim if str(v).strip()]
    return [str(claim)]


def user_from_claims(claims: dict, settings: dict) -> User:
    """Return the user an ID token's ``claims`` describe, by the mapping in ``settings``.

    Parameters
    ----------
    claims : dict
        The signed-in person's claims (``st.user.to_dict()``).
    settings : dict
        The ``[minqing_oidc]`` table (see the module docstring).

    Raises
    ------
    OIDCError
        If no claim value maps to a role, or a grid leader has no grids or communities.
    """
    roles = {str(k): str(v) for k, v in dict(settings.get("roles", {})).items()}
    bad = sorted(v for v in roles.values() if v not in ROLES)
    if bad:
        raise OIDCError(f"[minqing_oidc.roles] maps to unknown roles {bad}; allowed: {', '.join(ROLES)}",
                        value=", ".join(bad))
    granted = [roles[v] for v in _values(claims.get(settings.get("role_claim", "groups"))) if v in roles]
    if not granted:
        raise OIDCError("the identity provider gave no role this app knows; ask an administrator to add you "
                        "to one of the groups in [minqing_oidc.roles]", value="-")
    role = min(granted, key=_STRENGTH.__getitem__)
    name = str(claims.get(settings.get("name_claim", "email")) or claims.get("sub") or "")[:64]
    if role != "grid_leader":
        return User(role, name=name)
    grids = tuple(_values(claims.get(settings.get("grid_claim", "minqing_grids"))))
    communities = tuple(_values(claims.get(settings.get("community_claim", "minqing_communities"))))
    if not grids and not communities:
        raise OIDCError("a grid leader's token names no grid or community; ask an administrator",
                        value=name or "-")
    return User("grid_leader", grids, name=name, community_codes=communities)
