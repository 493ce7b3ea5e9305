"""The sessions' use cases: the dev login. It keeps no state, so it needs no unit of work."""

from __future__ import annotations

from dataclasses import dataclass

from registry.sessions.model import DEMO_USERS, DemoUser, demo_user, ensure_dev_login_allowed
from shared.auth import issue_token


@dataclass(frozen=True)
class DevLogin:
    """Log in as one of the demo users."""

    login: str
    env: str
    secret: str
    ttl_seconds: int


@dataclass(frozen=True)
class Session:
    user: DemoUser
    token: str
    expires_in: int


def dev_login(command: DevLogin) -> Session:
    """Issue a session token for a demo user; refused unless the environment is explicitly dev."""
    ensure_dev_login_allowed(command.env)
    user = demo_user(command.login)
    token = issue_token(command.secret, user.subject, user.grants, command.ttl_seconds)
    return Session(user=user, token=token, expires_in=command.ttl_seconds)


def list_demo_users(env: str) -> tuple[DemoUser, ...]:
    """The demo users one may log in as; refused unless the environment is explicitly dev."""
    ensure_dev_login_allowed(env)
    return DEMO_USERS
