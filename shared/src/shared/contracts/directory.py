"""The registry's directory events (v1): reference data, roles and people, as other services keep copies of them.

Domain events carry ids and public reference data (municipalities, units, institutions are public); a person's
name and e-mail address travel only in `DirectoryPersonContactV1`, on the short-retention contacts stream, to
the services that must show or reach that person. `DirectoryPersonErasedV1` tells every service to forget one.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import EmailStr, Field

from shared.contracts.events import Contract


class DirectoryMunicipalityChangedV1(Contract):
    """A municipality was registered or changed (name, cluster, validity, successor): public reference data."""

    number: str = Field(description="The official municipality number (SSB)", pattern=r"^[0-9]{4}$")
    name: str
    region: str
    cluster: str | None = Field(default=None, description="The cluster (e.g. bergen-og-omegn) it belongs to")
    valid_from: date | None = None
    valid_to: date | None = Field(default=None, description="Last day of validity; None while valid")
    successor: str | None = Field(default=None, description="The number of the municipality it became part of")
    changed_at: datetime


class DirectoryUnitChangedV1(Contract):
    """A non-municipal unit that may propose (e.g. USHT Hordaland) was registered or changed."""

    code: str
    name: str
    region: str
    host_municipality: str = Field(description="The municipality number that hosts the unit")
    valid_from: date | None = None
    valid_to: date | None = None
    changed_at: datetime


class DirectoryInstitutionChangedV1(Contract):
    """An institution (FHI, UiB, HVL, …) was registered or changed; producers take orders."""

    code: str
    name: str
    kind: str = Field(description="producer, university, university_college, hospital, research_institute, other")
    producer: bool = Field(description="True when it can receive orders for knowledge summaries")
    changed_at: datetime


class DirectoryRoleGrantedV1(Contract):
    """A person was given a role in a region (and, where it fits, a round or a producer)."""

    assignment_id: str
    person_id: str
    role: str
    region: str
    scope: str | None = Field(default=None, description="A round id (committee) or producer code (producer)")
    granted_at: datetime


class DirectoryRoleRevokedV1(Contract):
    """A person's role was revoked; services stop counting them from `revoked_at`."""

    assignment_id: str
    person_id: str
    role: str
    region: str
    scope: str | None = None
    revoked_at: datetime


class DirectoryPersonContactV1(Contract):
    """A person's name and address, for the services that must show or reach them. Contacts stream only."""

    person_id: str
    name: str
    email: EmailStr
    language: str = Field(default="nb", description="nb, nn or en: the language they read")
    changed_at: datetime


class DirectoryPersonErasedV1(Contract):
    """A person was erased from the directory: every service forgets their name and address."""

    person_id: str
    erased_at: datetime
