"""Sessions: the demo users, the rule that the dev login exists only in dev, and the tokens it issues."""

from __future__ import annotations

import pytest

from registry.sessions import service
from registry.sessions.model import (
    DEMO_USERS,
    DevLoginRefused,
    UnknownDemoUser,
    demo_user,
    ensure_dev_login_allowed,
)
from shared.auth import Role, verify_token

SECRET = "unit-test-secret-0123456789abcdef0123"


def test_every_role_has_a_demo_user():
    roles = {grant.role for user in DEMO_USERS for grant in user.grants}
    assert roles == set(Role)


def test_demo_user_logins_and_subjects_are_unique():
    assert len({u.login for u in DEMO_USERS}) == len(DEMO_USERS)
    assert len({u.subject for u in DEMO_USERS}) == len(DEMO_USERS)


def test_demo_user_subjects_are_opaque_ids_not_names_or_addresses():
    for user in DEMO_USERS:
        assert "@" not in user.subject
        assert user.login not in user.subject


def test_secretariat_demo_user_is_secretariat_in_vest():
    user = demo_user("sekretariat-vest")
    assert user.grants[0].role is Role.SECRETARIAT
    assert user.grants[0].region == "vest"


def test_unknown_demo_user_is_refused_naming_the_field():
    with pytest.raises(UnknownDemoUser) as raised:
        demo_user("kari.nordmann")
    assert raised.value.field == "user"


@pytest.mark.parametrize("env", ["test", "prod"])
def test_dev_login_is_refused_outside_dev(env):
    with pytest.raises(DevLoginRefused) as raised:
        ensure_dev_login_allowed(env)
    assert raised.value.status == 403
    assert raised.value.code == "dev-login-refused"


def test_dev_login_is_allowed_in_dev():
    ensure_dev_login_allowed("dev")


def test_dev_login_issues_a_token_with_the_demo_users_roles():
    session = service.dev_login(service.DevLogin("utval-vest", env="dev", secret=SECRET, ttl_seconds=600))
    principal = verify_token(SECRET, session.token)
    assert principal.subject == session.user.subject
    assert principal.has(Role.COMMITTEE_MEMBER, "vest")
    assert not principal.has(Role.COMMITTEE_MEMBER, "nord")
    assert session.expires_in == 600


def test_dev_login_in_production_issues_no_token():
    with pytest.raises(DevLoginRefused):
        service.dev_login(service.DevLogin("admin-vest", env="prod", secret=SECRET, ttl_seconds=600))


def test_the_demo_users_are_listed_only_in_dev():
    assert service.list_demo_users("dev") == DEMO_USERS
    with pytest.raises(DevLoginRefused):
        service.list_demo_users("test")
