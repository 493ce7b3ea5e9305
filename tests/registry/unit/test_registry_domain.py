"""The registry's domain: demo users and the rule that the dev login exists only in dev."""

from __future__ import annotations

import pytest

from registry.domain.demo_users import (
    DEMO_USERS,
    DevLoginRefused,
    UnknownDemoUser,
    demo_user,
    ensure_dev_login_allowed,
)
from shared.auth import Role


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
