"""Single sign-on: claims to a role and units, by the [minqing_oidc] table (worked example of the README)."""

from __future__ import annotations

import pytest

from minqing.oidc import OIDCError, auth_mode, oidc_settings, user_from_claims

SETTINGS = {
    "name_claim": "preferred_username", "role_claim": "groups", "grid_claim": "minqing_grids",
    "community_claim": "minqing_communities",
    "roles": {"/minqing/admins": "admin", "/minqing/planners": "planner", "/minqing/grid-leaders": "grid_leader",
              "/minqing/joint-meeting": "meeting"},
}


def test_groups_map_to_the_strongest_role():
    u = user_from_claims({"preferred_username": "li", "groups": ["/other", "/minqing/joint-meeting",
                                                                  "/minqing/planners"]}, SETTINGS)
    assert (u.role, u.name, u.grid_codes) == ("planner", "li", ())


def test_a_grid_leader_gets_the_units_of_the_claims():
    u = user_from_claims({"preferred_username": "wang", "groups": "/minqing/grid-leaders",
                          "minqing_grids": "G1, G2", "minqing_communities": ["C9"]}, SETTINGS)
    assert u.role == "grid_leader" and u.grid_codes == ("G1", "G2") and u.community_codes == ("C9",)


def test_unmapped_people_and_leaders_without_units_are_refused():
    with pytest.raises(OIDCError, match="no role"):
        user_from_claims({"preferred_username": "x", "groups": ["/staff"]}, SETTINGS)
    with pytest.raises(OIDCError, match="no grid or community"):
        user_from_claims({"preferred_username": "x", "groups": ["/minqing/grid-leaders"]}, SETTINGS)
    with pytest.raises(OIDCError, match="unknown roles"):
        user_from_claims({"groups": ["g"]}, {"roles": {"g": "root"}})


def test_mode_and_settings_from_the_secrets_file(tmp_path, monkeypatch):
    monkeypatch.delenv("MINQING_AUTH", raising=False)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('MINQING_AUTH = "oidc"\n[minqing_oidc]\nprovider = "keycloak"\n[minqing_oidc.roles]\n'
                       '"/a" = "admin"\n', encoding="utf-8")
    assert auth_mode(secrets) == "oidc"
    assert oidc_settings(secrets) == {"provider": "keycloak", "roles": {"/a": "admin"}}
    assert auth_mode(tmp_path / "none.toml") == "password"
    monkeypatch.setenv("MINQING_AUTH", "ldap")
    with pytest.raises(OIDCError, match="allowed: password, oidc"):
        auth_mode(tmp_path / "none.toml")
