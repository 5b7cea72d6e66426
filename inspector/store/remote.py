"""Opening a session that other processes may share: hold the file and serve it, or call the process that does."""

from __future__ import annotations

import contextlib
import pickle
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from inspector.store import wire
from inspector.store.connection import SessionLocked, StoreError
from inspector.store.server import retain, served_methods, serving
from inspector.store.session import Store

# A stopping holder's socket outlives it for a moment, and the next holder migrates before it serves: both take
# well under this. A holder with no socket at all (DuckDB's own shell, another tool) is given up on sooner.
JOIN_WAIT = 15.0
NO_SOCKET_WAIT = 2.0
# Calls whose reply was lost when the serving process died may or may not have committed, and sending them again
# would add a second copy. Labels are safe: each carries a key and is recorded once (see LabelsPart.add_label).
RESEND_UNSAFE = frozenset(
    {"save_snapshot", "insert_samples", "insert_rollout", "insert_rollouts", "import_jsonl", "import_batch"}
    | {"import_corpus"}
)
KEYED = frozenset({"add_label", "undo_last"})
# Each resend follows a failover (a new holder found or the file taken): more than a few means a holder that
# accepts connections and drops them.
_MAX_SENDS = 20


def open_shared(cls: type[Store], path: Path, *, read_only: bool, create: bool) -> Store:
    """A Store on the file when this process can hold it (then it serves other processes), else a RemoteStore
    calling the process that holds it."""
    if serving(path):
        # This process holds the file already: another store on it shares the database instance (DuckDB allows
        # that within a process) and keeps the server alive as long as it is open.
        store = cls.open_direct(path, create=create)
        store.read_only = read_only
        store.release = retain(path, lambda: cls.open_direct(path, create=False))
        return store
    remote = RemoteStore(path, read_only)
    local = remote.attach(cls, create)
    return local if local is not None else remote


def _open_local(cls: type[Store], path: Path, read_only: bool, create: bool) -> Store:
    if read_only:
        # Read-only callers still take the file for writing when they can, so that they can serve a run that
        # starts meanwhile; a file this user may not write is opened read-only and shared with nobody.
        try:
            store = cls.open_direct(path, create=False)
        except SessionLocked:
            raise
        except StoreError:
            return cls.open_direct(path, read_only=True)
        store.read_only = True
    else:
        store = cls.open_direct(path, create=create)
    store.release = retain(path, lambda: cls.open_direct(path, create=False))
    return store


class RemoteStore(Store):
    """The Store of a session another process holds: each call is sent to that process and answered there.

    When the holder stops (or dies), the next call takes the file (this process then serves the others) or finds
    the process that took it first, and is sent again unless it might already have committed."""

    def __init__(self, path: Path, read_only: bool) -> None:  # no connection of its own
        self.path: Path | None = path
        self.file = path
        self.read_only = read_only
        self.release = None
        self.served_by: tuple[int, str] | None = None  # (PID, program) of the holder
        self._owned: Store | None = None  # set when this process took the file over
        self._cls: type[Store] | None = None
        self._thread = threading.local()
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._failing = threading.Lock()
        self._generation = 0

    # -- holding or joining ------------------------------------------------------------------------------------
    def attach(self, cls: type[Store], create: bool) -> Store | None:
        """Take the file if nobody holds it (returns that Store), else connect to its holder (returns None)."""
        self._cls = cls
        sock_path = wire.endpoint(self.file)[0]
        start = time.monotonic()
        while True:
            try:
                return _open_local(cls, self.file, self.read_only, create)
            except SessionLocked as e:
                locked = e
            probe = self._connect()
            if probe is not None:
                probe.close()  # each thread opens its own connection on its first call
                return None
            waited = time.monotonic() - start
            if waited > (JOIN_WAIT if sock_path.exists() else NO_SOCKET_WAIT):
                raise StoreError(f"{locked} that does not share it; close that program and try again") from locked
            time.sleep(0.05)

    def _connect(self) -> socket.socket | None:
        sock_path, key_path = wire.endpoint(self.file)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            key = key_path.read_bytes()
            # A holder that accepts but never greets (stopped, say) is not serving.
            sock.settimeout(5)
            sock.connect(str(sock_path))
            wire.send_raw(sock, key)
            hello = wire.recv(sock)
            sock.settimeout(None)
        except (OSError, EOFError, pickle.UnpicklingError):
            sock.close()
            return None
        if not (isinstance(hello, tuple) and hello[:1] == ("hello",)):
            sock.close()
            return None
        self.served_by = (int(hello[1]), str(hello[2]))
        return sock

    def _socket(self) -> socket.socket:
        sock: socket.socket | None = getattr(self._thread, "sock", None)
        if sock is not None and (self._thread.generation != self._generation or wire.peer_gone(sock)):
            self._drop_socket()
            sock = None
        if sock is None:
            sock = self._connect()
            if sock is None:
                raise ConnectionError("no process serves the session")
            self._thread.sock, self._thread.generation = sock, self._generation
            with self._lock:
                self._socks.append(sock)
        return sock

    def _drop_socket(self) -> None:
        sock = getattr(self._thread, "sock", None)
        self._thread.sock = None
        if sock is not None:
            with self._lock, contextlib.suppress(ValueError):
                self._socks.remove(sock)
            sock.close()

    def _failover(self, seen: int) -> None:
        """Take the file or find its new holder, once for all of this process's threads: `seen` is the generation
        the failed call used, so a thread that failed on an older connection does not start another takeover."""
        with self._failing:
            if self._generation != seen or self._owned is not None:
                return  # another thread already took the file over or found its new holder
            assert self._cls is not None
            owned = self.attach(self._cls, create=False)
            with self._lock:
                self._owned = owned
                self._generation += 1

    # -- calls ----------------------------------------------------------------------------------------------
    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if name in KEYED and kwargs.get("key") is None:
            kwargs = {**kwargs, "key": uuid.uuid4().hex}
        # A relative path means this process's working folder, not the holder's.
        args = tuple(a.resolve() if isinstance(a, Path) else a for a in args)
        kwargs = {k: v.resolve() if isinstance(v, Path) else v for k, v in kwargs.items()}
        try:
            payload = pickle.dumps((name, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            raise StoreError(f"{self.path}: {name} cannot be sent to the process holding the session ({e})") from e
        for _ in range(_MAX_SENDS):
            owned = self._owned
            if owned is not None:
                return getattr(owned, name)(*args, **kwargs)
            sent = False
            seen = self._generation
            try:
                sock = self._socket()
                wire.send_raw(sock, payload)
                sent = True
                reply = wire.recv(sock)
            except (OSError, EOFError, pickle.UnpicklingError):
                self._drop_socket()
                if sent and name in RESEND_UNSAFE:
                    who = f" (PID {self.served_by[0]})" if self.served_by else ""
                    raise StoreError(
                        f"{self.path}: the process holding the session{who} stopped during {name}; it may or may"
                        " not have been saved, so check before running it again"
                    ) from None
                self._failover(seen)
                continue
            if reply[0] == "ok":
                return reply[1]
            if reply[0] == "retry":  # the holder is stopping and did not run it
                self._drop_socket()
                self._failover(seen)
                continue
            raise reply[1]
        raise StoreError(f"{self.path}: the process holding the session keeps closing the connection; try again")

    # -- what is not a call ----------------------------------------------------------------------------------
    def sharing(self) -> str:
        if self._owned is not None:
            return self._owned.sharing()
        pid, program = self.served_by or (0, "?")
        return f"held by {program} (PID {pid}); labels and rollouts are saved there"

    @property
    def cur(self) -> duckdb.DuckDBPyConnection:
        if self._owned is not None:
            return self._owned.cur
        raise StoreError(f"{self.path}: another process holds the session; its SQL cursor is not shared")

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._owned is None:
            raise StoreError(f"{self.path}: another process holds the session; transactions are not shared")
        with self._owned.transaction() as cur:
            yield cur

    def close(self) -> None:
        with self._lock:
            socks, self._socks = self._socks, []
            owned, self._owned = self._owned, None
        for s in socks:
            s.close()
        if owned is not None:
            owned.close()


def forwarding(cls: type[Store]) -> None:
    """Give RemoteStore every method other processes may call, each sent to the holder."""

    def forward(name: str) -> Any:
        def method(self: RemoteStore, *args: Any, **kwargs: Any) -> Any:
            return self.call(name, args, kwargs)

        method.__name__ = method.__qualname__ = name
        method.__doc__ = getattr(cls, name).__doc__
        return method

    for name in served_methods(cls):
        setattr(RemoteStore, name, forward(name))


forwarding(Store)
