"""The session socket's wire: where a session's socket and key live, and length-prefixed frames over it."""

from __future__ import annotations

import hashlib
import os
import pickle
import secrets
import select
import socket
import struct
import tempfile
from pathlib import Path
from typing import Any

_HEADER = struct.Struct("!Q")
KEY_BYTES = 32


def runtime_dir() -> Path:
    """A folder only this user can enter: a socket that unpickles requests must not be reachable by others."""
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = base / f"organism-inspector-{uid}"
    folder.mkdir(mode=0o700, exist_ok=True)
    st = folder.stat()
    if st.st_uid != uid or st.st_mode & 0o077:
        raise OSError(f"{folder}: must belong to this user and be closed to others (mode 700)")
    return folder


def endpoint(path: Path) -> tuple[Path, Path]:
    """The socket and key file of a session, named by a hash of its absolute path: socket paths must stay short
    (104 bytes on macOS) and a session's own path can be far longer."""
    name = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    folder = runtime_dir()
    return folder / f"{name}.sock", folder / f"{name}.key"


def new_key(key_path: Path) -> bytes:
    """A fresh secret, written readable by this user only; a client proves it can read it before anything is
    unpickled."""
    key = secrets.token_bytes(KEY_BYTES)
    tmp = key_path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    tmp.replace(key_path)
    return key


def send_raw(sock: socket.socket, data: bytes) -> None:
    sock.sendall(_HEADER.pack(len(data)) + data)


def recv_raw(sock: socket.socket, limit: int | None = None) -> bytes:
    """One frame; EOFError when the other side closed between frames."""
    head = _recv_exact(sock, _HEADER.size, at_start=True)
    (n,) = _HEADER.unpack(head)
    if limit is not None and n > limit:
        raise EOFError("frame too long")
    return _recv_exact(sock, n, at_start=False)


def send(sock: socket.socket, obj: Any) -> None:
    send_raw(sock, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def recv(sock: socket.socket) -> Any:
    return pickle.loads(recv_raw(sock))


def _recv_exact(sock: socket.socket, n: int, *, at_start: bool) -> bytes:
    chunks: list[bytes] = []
    left = n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("closed" if at_start and left == n else "closed mid-frame")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def peer_gone(sock: socket.socket) -> bool:
    """Whether the server closed this idle connection: it never speaks unasked, so anything readable is EOF."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)
