"""In-memory fakes of the ports use cases see, for fast unit tests without I/O.

`FakeUnitOfWork` is the one generic fake: it records staged events, claims inbox entries and counts commits,
and it rolls nothing back by itself (a test that needs "nothing half-written" checks `committed`). A test adds
the feature's in-memory repositories as attributes in a small subclass, so mypy checks it against the feature's
`...UnitOfWork` Protocol without `# type: ignore`:

```python
class CandidatesUow(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.candidates = InMemoryCandidates()
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from pydantic import BaseModel

from shared.contracts.subjects import EventSpec


@dataclass(frozen=True)
class StagedEvent:
    spec: EventSpec
    region: str
    subject_id: str
    data: BaseModel
    event_id: str

    @property
    def type(self) -> str:
        return self.spec.type


class FakeUnitOfWork:
    """A unit of work in memory: `events` holds what a commit would have published, in order."""

    def __init__(self) -> None:
        self.events: list[StagedEvent] = []
        self._staged: list[StagedEvent] = []
        self.claimed: set[tuple[str, str]] = set()
        self._claimed_now: set[tuple[str, str]] = set()
        self.commits = 0
        self.open = False
        self._next_id = 0

    async def __aenter__(self) -> Self:
        self.open = True
        self._staged = []
        self._claimed_now = set()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        # Whatever was not committed is dropped, as a real rollback would.
        self._staged = []
        self._claimed_now = set()
        self.open = False

    def publish(self, spec: EventSpec, *, region: str, subject_id: str, data: BaseModel) -> str:
        self._next_id += 1
        event_id = f"evt-{self._next_id:04d}"
        self._staged.append(StagedEvent(spec, region, subject_id, data, event_id))
        return event_id

    async def claim(self, consumer: str, event_id: str) -> bool:
        key = (consumer, event_id)
        if key in self.claimed or key in self._claimed_now:
            return False
        self._claimed_now.add(key)
        return True

    async def commit(self) -> None:
        assert self.open, "commit outside `async with uow`"
        self.events.extend(self._staged)
        self.claimed |= self._claimed_now
        self._staged = []
        self._claimed_now = set()
        self.commits += 1

    def published(self, spec: EventSpec) -> list[BaseModel]:
        """The data of every committed event of one type."""
        return [event.data for event in self.events if event.spec == spec]


class FakeReader:
    """A read-only session in memory; subclasses add the feature's repositories (often the uow's own)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None
