"""An in-process :class:`flwr.serverapp.Grid` for tests and benchmarks.

:class:`LocalGrid` hands each message straight to a ClientApp in this process, one
:class:`flwr.app.Context` per node, and keeps every message sent and received so tests can
inspect exactly what devices send (byte by byte, with :meth:`LocalGrid.reply_bytes`).
Users run federations on Flower's simulation engine (``edgeprof simulate``, ``flwr run``)
or deployment engine (SuperLink + SuperNodes); this grid only makes the same strategy
and ClientApp testable in seconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

from flwr.app import Context, Message, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid
from flwr.supercore.inflatable.inflatable_object import get_all_nested_objects
from flwr.supercore.run import Run
from flwr.supercore.task_identity import TaskIdentity

__all__ = ["LocalGrid"]

_FIRST_NODE = 1000


class LocalGrid(Grid):
    """Run ``client_app`` in-process for nodes ``1000, 1001, ...``.

    Parameters
    ----------
    client_app
        The ClientApp every node runs.
    node_configs
        One node config per node (e.g. ``{"partition-id": i}``).
    run_config
        The run configuration every node sees.
    run_id
        The run id given to messages.
    keep
        Keep every message sent and received in :attr:`sent` and :attr:`replies` (for
        tests; a long benchmark turns it off so updates do not pile up in memory).
    """

    def __init__(
        self,
        client_app: ClientApp,
        node_configs: Sequence[Mapping[str, bool | float | int | str]],
        run_config: Mapping[str, bool | float | int | str],
        *,
        run_id: int = 1,
        keep: bool = True,
    ) -> None:
        # Flower stamps messages with the process's task identity; a real SuperLink sets it.
        TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = run_id, 1, 1
        self._app = client_app
        self._run = Run.create_empty(run_id)
        self.contexts = {
            _FIRST_NODE + i: Context(
                run_id, _FIRST_NODE + i, dict(cfg), RecordDict(), dict(run_config)
            )
            for i, cfg in enumerate(node_configs)
        }
        self.sent: list[Message] = []
        self.replies: list[Message] = []
        self._pending: dict[str, Message] = {}
        self._ids = itertools.count()
        self._keep = keep

    def set_run(self, run: Run) -> None:
        """Set the run."""
        self._run = run

    @property
    def run(self) -> Run:
        """Return the run."""
        return self._run

    def create_message(
        self,
        content: RecordDict,
        message_type: str,
        dst_node_id: int,
        group_id: str,
        ttl: float | None = None,
    ) -> Message:
        """Create a message to one node."""
        return Message(content, dst_node_id, message_type, ttl=ttl, group_id=group_id)

    def get_node_ids(self) -> Iterable[int]:
        """Return every node id."""
        return list(self.contexts)

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        """Run the ClientApp on each message now; return ids to pull the replies with."""
        ids = []
        for message in messages:
            reply = self._app(message, self.contexts[message.metadata.dst_node_id])
            if self._keep:
                self.sent.append(message)
                self.replies.append(reply)
            key = str(next(self._ids))
            self._pending[key] = reply
            ids.append(key)
        return ids

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        """Return (and forget) the replies of ``message_ids``."""
        return [self._pending.pop(key) for key in message_ids if key in self._pending]

    def send_and_receive(
        self, messages: Iterable[Message], *, timeout: float | None = None
    ) -> Iterable[Message]:
        """Push ``messages`` and return all replies (the ClientApp runs synchronously)."""
        return self.pull_messages(self.push_messages(messages))

    @staticmethod
    def reply_bytes(message: Message) -> bytes:
        """Return the serialized bytes of a message and every record it carries."""
        objects = get_all_nested_objects(message)
        return b"".join(obj.deflate() for obj in objects.values())
