"""Dead letters on FastStream's in-memory broker: what a service's subscribers sent to KP_DLQ.

`TestNatsBroker` is not JetStream, but it routes the dead-letter publish (`stream=KP_DLQ`) to any subscriber on
that stream, so a service test can assert that an event which can never succeed was dead-lettered with its reason
rather than dropped. Attach before entering `TestNatsBroker`:

```python
letters = collect_dead_letters(app.state.runtime.broker)
async with TestNatsBroker(app.state.runtime.broker) as br:
    ...
assert [letter["reason"] for letter in letters] == [...]
```
"""

from __future__ import annotations

import json
from typing import Any

from faststream.nats import JStream, NatsBroker, NatsMessage

from shared.contracts.streams import DLQ
from shared.contracts.subjects import DEAD_LETTER_PREFIX


def collect_dead_letters(broker: NatsBroker) -> list[dict[str, Any]]:
    """Subscribe to every dead letter on `broker`; the returned list fills as they are recorded."""
    letters: list[dict[str, Any]] = []

    async def on_dead_letter(message: NatsMessage) -> None:
        letters.append(json.loads(message.raw_message.data))

    broker.subscriber(f"{DEAD_LETTER_PREFIX}.>", stream=JStream(DLQ, declare=False))(on_dead_letter)
    return letters
