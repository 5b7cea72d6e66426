"""A simulated OpenAI-compatible server on loopback: stated latency distribution, stated slots, streamed tokens.

What it stands for: a vLLM or llama-server that decodes at most `slots` requests at once (a request beyond them
waits for a slot, as a server's queue does) and answers each in a service time drawn from a log-normal
distribution of stated mean and spread, its tokens streamed evenly over that time. With `--overload Q` it answers
429 to a request that finds more than `slots + Q` requests already with it (a server shedding load). The text of a
completion is a function of its seed and prompt alone, so a client can check that a retried or resumed request
stored what the server would have said. Written for benchmarks/served.py and the served-run tests, before the
client's fleet code: nothing in it knows how the client schedules.

    python -m benchmarks.simulated_server --port 8100 --slots 128 --mean 0.5 --sigma 0.5 --tokens 16
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Settings:
    """What the simulated server promises: its model, slots, service-time distribution and tokens per answer."""

    models: tuple[str, ...] = ("sim",)  # what /v1/models lists; a request for another is refused
    slots: int = 128
    mean: float = 0.5  # mean service time of one request, seconds (log-normal)
    sigma: float = 0.5  # spread of the log of the service time
    tokens: int = 16  # tokens streamed per answer (fewer when max_tokens is smaller)
    overload: int | None = None  # queue beyond the slots before 429 (None: never refuse)
    seed: int = 0


@dataclass
class Counters:
    """What happened, for the benchmark to read: requests served, refused, and the slots' busy time."""

    served: int = 0
    refused: int = 0
    busy_seconds: float = 0.0
    with_server: int = 0  # requests in the server now, waiting or decoding
    most_with_server: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "served": self.served,
                "refused": self.refused,
                "busy_seconds": round(self.busy_seconds, 3),
                "with_server": self.with_server,
                "most_with_server": self.most_with_server,
            }


def answer_text(seed: int, prompt: str, n: int) -> list[str]:
    """The tokens of the answer to a prompt under a seed: the same every time it is asked."""
    key = hashlib.sha256(f"{seed}:{prompt}".encode()).hexdigest()[:8]
    return [f"w{key}{i} " for i in range(n)]


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a listen backlog for hundreds of clients connecting at once

    def __init__(self, port: int, settings: Settings) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.settings = settings
        self.counters = Counters()
        self.slots = threading.BoundedSemaphore(settings.slots)
        self.rng = random.Random(settings.seed)
        self.rng_lock = threading.Lock()
        # Log-normal with the stated mean: exp(mu + sigma^2 / 2) = mean.
        self.mu = math.log(settings.mean) - settings.sigma**2 / 2

    def service_time(self) -> float:
        with self.rng_lock:
            return self.rng.lognormvariate(self.mu, self.settings.sigma)


class Handler(BaseHTTPRequestHandler):
    server: SimServer
    protocol_version = "HTTP/1.0"  # one request per connection, the body ends when the connection closes

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            models = [{"id": m, "object": "model"} for m in self.server.settings.models]
            self._json(200, {"object": "list", "data": models})
        elif self.path.rstrip("/") == "/stats":
            self._json(200, self.server.counters.as_dict())
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        chat = self.path.rstrip("/") == "/v1/chat/completions"
        if not chat and self.path.rstrip("/") != "/v1/completions":
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        if body.get("model") not in self.server.settings.models:
            self._json(404, {"error": {"message": f"model {body.get('model')!r} not served"}})
            return
        c, s = self.server.counters, self.server.settings
        with c.lock:
            if s.overload is not None and c.with_server >= s.slots + s.overload:
                c.refused += 1
                refuse = True
            else:
                refuse = False
                c.with_server += 1
                c.most_with_server = max(c.most_with_server, c.with_server)
        if refuse:
            self._json(429, {"error": {"message": "too many requests"}})
            return
        try:
            prompt = json.dumps(body.get("messages")) if chat else str(body.get("prompt"))
            n = max(1, min(int(body.get("max_tokens") or s.tokens), s.tokens))
            tokens = answer_text(int(body.get("seed") or 0), prompt, n)
            with self.server.slots:
                took = self.server.service_time()
                self._stream(tokens, took, chat, bool(body.get("stream")))
                with c.lock:
                    c.served += 1
                    c.busy_seconds += took
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away
        finally:
            with c.lock:
                c.with_server -= 1

    def _stream(self, tokens: list[str], took: float, chat: bool, stream: bool) -> None:
        start = time.monotonic()
        if not stream:
            time.sleep(took)
            text = "".join(tokens)
            whole: dict[str, Any] = {"message": {"role": "assistant", "content": text}} if chat else {"text": text}
            usage = {"prompt_tokens": 0, "completion_tokens": len(tokens)}  # as vLLM and llama-server report
            self._json(200, {"choices": [whole | {"index": 0, "finish_reason": "length"}], "usage": usage})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for i, tok in enumerate(tokens):
            # Token i is due at (i + 1) / n of the service time.
            delay = start + took * (i + 1) / len(tokens) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            last = i == len(tokens) - 1
            choice: dict[str, Any] = {"index": 0, "finish_reason": "length" if last else None}
            if chat:
                choice["delta"] = {"content": tok}
            else:
                choice["text"] = tok
            self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def start(port: int, settings: Settings) -> tuple[SimServer, threading.Thread]:
    """A server on a thread of this process (the tests' way); the benchmark runs it as its own process."""
    srv = SimServer(port, settings)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    return srv, thread


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--models", default="sim", help="comma-separated model names it serves")
    ap.add_argument("--slots", type=int, default=128)
    ap.add_argument("--mean", type=float, default=0.5, help="mean service time, seconds")
    ap.add_argument("--sigma", type=float, default=0.5, help="spread of log service time")
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--overload", type=int, help="queue beyond the slots before answering 429")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    settings = Settings(tuple(a.models.split(",")), a.slots, a.mean, a.sigma, a.tokens, a.overload, a.seed)
    SimServer(a.port, settings).serve_forever()


if __name__ == "__main__":
    main()
