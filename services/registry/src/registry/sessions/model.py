"""Sessions' model: the demo users of the dev login, one per role, all in region vest. Plain Python.

The dev login is only ever used when env is dev.

Subjects are opaque ids, like the directory's will be; a token never carries a name or an address.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth import Role, RoleGrant
from shared.errors import DomainError, Forbidden

DEMO_REGION = "vest"


@dataclass(frozen=True)
class DemoUser:
    """A login name for the dev login, the opaque subject its token carries, and its role grants."""

    login: str
    subject: str
    description: str
    grants: tuple[RoleGrant, ...]


def _user(login: str, number: int, description: str, role: Role) -> DemoUser:
    return DemoUser(login, f"demo-{number:04d}", description, (RoleGrant(role, DEMO_REGION),))


DEMO_USERS: tuple[DemoUser, ...] = (
    _user("sekretariat-vest", 1, "Sekretariat / FoU-rådgiver, vest", Role.SECRETARIAT),
    _user("utval-vest", 2, "Medlem av bestillerutvalet, vest", Role.COMMITTEE_MEMBER),
    _user("styring-vest", 3, "Styringsgruppa, vest", Role.STEERING_GROUP),
    _user("fhi-produsent", 4, "Kunnskapsprodusent (FHI), vest", Role.PRODUCER),
    _user("registry-vest", 5, "Redaktør for registeret, vest", Role.REGISTRY_EDITOR),
    _user("admin-vest", 6, "Administrator, vest", Role.ADMIN),
    _user("drift", 7, "Drift, vest", Role.OPERATOR),
    _user("utvalsleiar-vest", 8, "Leiar av bestillarutvalet, vest", Role.COMMITTEE_CHAIR),
)


class DevLoginRefused(Forbidden):
    code = "dev-login-refused"


class UnknownDemoUser(DomainError):
    status = 422
    code = "unknown-demo-user"
    field = "user"


def ensure_dev_login_allowed(env: str) -> None:
    """The dev login hands out any role without a password: refuse it everywhere but an explicit dev env."""
    if env != "dev":
        raise DevLoginRefused(f"the dev login is only available when KP_ENV is dev (it is {env!r})")


def demo_user(login: str) -> DemoUser:
    """The demo user with this login name, or UnknownDemoUser."""
    for user in DEMO_USERS:
        if user.login == login:
            return user
    raise UnknownDemoUser(f"no demo user {login!r}; choose one of {', '.join(u.login for u in DEMO_USERS)}")
