"""The writer's side of a shared session: the process holding the file serves every other process's calls."""

from __future__ import annotations

import atexit
import contextlib
import hmac
import os
import pickle
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.store import wire
from inspector.store.connection import StoreError

if TYPE_CHECKING:
    from inspector.store.session import Store

# What another process may call: the Store's public methods, never its cursor, transactions or opening.
NOT_SERVED = frozenset({"open", "open_direct", "memory", "check_writable", "close", "cur", "transaction", "sharing"})


def served_methods(cls: type) -> frozenset[str]:
    return frozenset(n for n in dir(cls) if not n.startswith("_") and n not in NOT_SERVED and callable(getattr(cls, n)))


def process_name() -> str:
    """How a client names the process serving it: `inspector run`, `inspector` (the app), or the program."""
    prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    sub = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else ""
    return f"{prog} {sub}".strip()


class SessionServer:
    """Serves one session to other processes over a Unix socket, one thread per connected client.

    Each call runs on this process's own connection to the file (a cursor per thread), so DuckDB's one-writer-per-
    file rule holds: other processes never open the file while this one has it."""

    def __init__(self, store: Store) -> None:
        assert store.path is not None
        self.store = store
        self.methods = served_methods(type(store))
        self.sock_path, self.key_path = wire.endpoint(store.path)
        self._closing = False
        self._clients: dict[socket.socket, threading.Lock] = {}
        self._threads: list[threading.Thread] = []
        self._guard = threading.Lock()
        self._listener: socket.socket | None = None

    def start(self) -> None:
        self.key = wire.new_key(self.key_path)
        # A socket left by a process that died is stale: only the file's lock holder reaches this line.
        with contextlib.suppress(FileNotFoundError):
            self.sock_path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.sock_path))
        os.chmod(self.sock_path, 0o600)
        listener.listen(16)
        self._listener = listener
        t = threading.Thread(target=self._accept, name="session-server", daemon=True)
        t.start()
        self._threads.append(t)

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._closing:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed by stop()
            with self._guard:
                if self._closing:
                    conn.close()
                    return
                self._clients[conn] = threading.Lock()
                t = threading.Thread(target=self._serve, args=(conn,), name="session-client", daemon=True)
                self._threads.append(t)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        busy = self._clients[conn]
        try:
            # The key before anything is unpickled: only a process that can read the user's key file gets further.
            if not hmac.compare_digest(wire.recv_raw(conn, limit=wire.KEY_BYTES), self.key):
                return
            wire.send(conn, ("hello", os.getpid(), process_name()))
            while True:
                request = wire.recv_raw(conn)
                with busy:
                    if self._closing:
                        # Received but not run: the client may safely send it again to whoever serves next.
                        wire.send(conn, ("retry",))
                        return
                    wire.send_raw(conn, self._answer(request))
        except (OSError, EOFError):
            pass  # the client went away
        finally:
            with self._guard:
                self._clients.pop(conn, None)
            conn.close()

    def _answer(self, request: bytes) -> bytes:
        try:
            name, args, kwargs = pickle.loads(request)
            if name not in self.methods:
                raise StoreError(f"{self.store.path}: {name} is not shared with other processes")
            method: Callable[..., Any] = getattr(self.store, name)
            return pickle.dumps(("ok", method(*args, **kwargs)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # every failure goes back to the caller, who raises it
            return pickle.dumps(("err", _portable(e)), protocol=pickle.HIGHEST_PROTOCOL)

    def stop(self) -> None:
        """Stop taking calls; a call already running finishes and is answered first, so no commit goes unreported."""
        with self._guard:
            self._closing = True
            clients = list(self._clients.items())
        if self._listener is not None:
            # Closing a listening socket does not wake a thread blocked in accept(); a connection does.
            with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as poke:
                poke.connect(str(self.sock_path))
            with contextlib.suppress(OSError):
                self._listener.close()
        for path in (self.sock_path, self.key_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        for conn, busy in clients:
            # Reading side only: it wakes a handler waiting for a request, and one that got a request just now can
            # still answer "retry".
            with busy, contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RD)
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=5)
        self.store.close()


def _portable(e: Exception) -> Exception:
    """The exception itself when it survives pickling (StoreError, ValueError, ImportRejected...), else its text."""
    try:
        pickle.loads(pickle.dumps(e))
    except Exception:  # an exception class with a custom constructor, say
        return StoreError(str(e).splitlines()[0] if str(e) else type(e).__name__)
    return e


# -- one server per session file per process --------------------------------------------------------------------
_SERVED: dict[Path, tuple[SessionServer, int]] = {}
_REGISTRY = threading.Lock()


@atexit.register
def _stop_all() -> None:
    # A store nobody closed still answers the calls in flight and removes its socket before the process ends.
    with _REGISTRY:
        servers = [server for server, _ in _SERVED.values()]
        _SERVED.clear()
    for server in servers:
        server.stop()


def serving(path: Path) -> bool:
    with _REGISTRY:
        return path.resolve() in _SERVED


def retain(path: Path, open_server_store: Callable[[], Store]) -> Callable[[], None]:
    """Serve the session while at least one of this process's stores has it open; returns the release."""
    key = path.resolve()
    with _REGISTRY:
        if key in _SERVED:
            server, n = _SERVED[key]
            _SERVED[key] = (server, n + 1)
        else:
            # The server's own connection: it outlives whichever of this process's stores closes first.
            server = SessionServer(open_server_store())
            server.start()
            _SERVED[key] = (server, 1)
    released = threading.Event()

    def release() -> None:
        if released.is_set():
            return
        released.set()
        with _REGISTRY:
            server, n = _SERVED[key]
            if n > 1:
                _SERVED[key] = (server, n - 1)
                return
            del _SERVED[key]
        server.stop()

    return release
