"""A recording TCP proxy on loopback: what SuperNodes send to the SuperLink, byte for byte.

For the wire-capture privacy test the SuperNodes connect to :class:`RecordingProxy`
instead of the SuperLink; the proxy forwards every byte unchanged and keeps a copy of
each connection's two streams. It only ever listens on and connects to loopback
addresses. Run it over an insecure (plain HTTP) link only: with TLS the copy is
ciphertext and proves nothing.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from dataclasses import dataclass, field
from types import TracebackType

from fl_server.deploy.errors import LaunchError

__all__ = ["Capture", "RecordingProxy"]

_CHUNK = 65536


@dataclass
class Capture:
    """The bytes of one proxied connection, per direction.

    Attributes
    ----------
    upstream
        What the client (SuperNode) sent.
    downstream
        What the server (SuperLink) answered.
    """

    upstream: bytearray = field(default_factory=bytearray)
    downstream: bytearray = field(default_factory=bytearray)


def _loopback(host: str) -> str:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise LaunchError(f"proxy: {host!r} is not a loopback address")
    return host


class RecordingProxy:
    """Forward ``127.0.0.1:<port>`` to ``target`` and record both directions.

    Parameters
    ----------
    target_port
        Port of the server on ``target_host``.
    target_host
        Loopback address of the server.
    listen_host
        Loopback address to listen on (port chosen by the OS, see :attr:`port`).
    """

    def __init__(
        self, target_port: int, *, target_host: str = "127.0.0.1", listen_host: str = "127.0.0.1"
    ) -> None:
        self.target = (_loopback(target_host), target_port)
        self._listener = socket.create_server((_loopback(listen_host), 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self.captures: list[Capture] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)

    def __enter__(self) -> RecordingProxy:
        """Start forwarding."""
        self._acceptor.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Stop forwarding and close every connection."""
        self.close()

    def upstream(self) -> list[bytes]:
        """Return what clients sent, one bytes object per connection."""
        with self._lock:
            return [bytes(c.upstream) for c in self.captures]

    def downstream(self) -> list[bytes]:
        """Return what the server answered, one bytes object per connection."""
        with self._lock:
            return [bytes(c.downstream) for c in self.captures]

    def close(self) -> None:
        """Stop accepting, close all sockets and join the forwarding threads (bounded)."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        if self._acceptor.is_alive():
            self._acceptor.join(timeout=2.0)
        for thread in list(self._threads):
            thread.join(timeout=2.0)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5.0)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            capture = Capture()
            with self._lock:
                self.captures.append(capture)
                self._sockets.extend((client, server))
            for source, sink, buffer in (
                (client, server, capture.upstream),
                (server, client, capture.downstream),
            ):
                thread = threading.Thread(
                    target=self._pump, args=(source, sink, buffer), daemon=True
                )
                self._threads.append(thread)
                thread.start()

    def _pump(self, source: socket.socket, sink: socket.socket, buffer: bytearray) -> None:
        try:
            while chunk := source.recv(_CHUNK):
                with self._lock:
                    buffer.extend(chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
