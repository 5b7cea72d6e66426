"""OpenAI-compatible HTTP backend (llama-server, vLLM, llama_cpp.server): streaming completions from a fleet of
replicas, many in flight, for scale-out."""

from __future__ import annotations

import copy
import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from inspector.engine.base import (
    BATCH,
    GENERATE,
    PROMPT_LOGPROBS,
    SCORE,
    UNORDERED,
    EngineError,
    Generation,
    GenParams,
    ModelInfo,
    Prompt,
    PromptFormat,
    TokenCallback,
    as_chat,
    raw_text,
)
from inspector.engine.fleet import Fleet, Load, Notify, Replica
from inspector.engine.in_flight import unordered

ManyTokenCallback = Callable[[int, str], None]
# A server that answers 429/503 this many times in a row to one request has not recovered: the request fails.
OVERLOAD_TRIES = 30
MAX_WAIT = 8.0  # the longest pause between tries of an overloaded server
# What a replica that is gone looks like from here: refused, reset or cut mid-answer, timed out.
GONE = (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException, OSError)


class EndpointDown(EngineError):
    """No replica of a side answers: the run stops (keeping what finished) rather than record failures."""


def echoed(logprobs: dict[str, Any], prompt: str) -> int:
    """How many of an echo's entries are the prompt's own tokens: those that start inside the prompt. The token
    generated after it is not always there (a model that ends its turn at once, as SmolLM2 does after a full
    sentence, gets nothing appended), so counting it off the end would drop the prompt's last token."""
    offsets = logprobs.get("text_offset")
    values = logprobs.get("token_logprobs") or []
    if isinstance(offsets, list) and len(offsets) == len(values):
        own = sum(1 for o in offsets if isinstance(o, int) and o < len(prompt))
        if own:
            return own
    return max(len(values) - 1, 0)  # no usable offsets: assume one generated token, as the request asks for


def _reason(e: BaseException) -> str:
    return str(getattr(e, "reason", None) or e or type(e).__name__)


class OpenAIBackend:
    """One served model on one or more replicas. Requests are capped in flight (adaptively), spread to the least
    busy replica, retried elsewhere when a replica goes, and time out."""

    capabilities = frozenset({GENERATE, BATCH, UNORDERED, SCORE, PROMPT_LOGPROBS})

    def __init__(
        self,
        endpoints: str | Sequence[str],
        model: str,
        *,
        role: str = "model",
        prompt_format: PromptFormat = "raw",
        template_kwargs: dict[str, Any] | None = None,
        timeout: float = 120.0,
        retries: int = 3,
        backoff: float = 0.5,
        concurrency: int = 64,
        lora_id: int | None = None,
        adapter_scale: float | None = None,
        where: str | None = None,
        notify: Notify | None = None,
    ) -> None:
        urls = [u.rstrip("/") for u in ([endpoints] if isinstance(endpoints, str) else endpoints)]
        if not urls:
            raise EngineError(f"{where or role}: no endpoint to send requests to")
        self.endpoint = urls[0] if len(urls) == 1 else f"{urls[0]} (+{len(urls) - 1} replicas)"
        self.where = where or self.endpoint
        self.model, self.role, self.prompt_format = model, role, prompt_format
        self.template_kwargs = dict(template_kwargs or {})
        self.timeout, self.retries = timeout, retries
        self.n_seq = concurrency  # generate_many's pool; generate_unordered keeps this many in flight at most
        self.fleet = Fleet(urls, concurrency, backoff, notify)
        self.lora_id = lora_id
        # llama-server applies a loaded adapter at its start-up scale unless a request says otherwise: a base
        # served by the organism's server says scale 0 on every request.
        self.scale = adapter_scale if adapter_scale is not None else (1.0 if role == "organism" else 0.0)
        self._check_models()
        self._info = self._make_info()

    def _make_info(self) -> ModelInfo:
        lora = {"lora_id": self.lora_id, "lora_scale": self.scale} if self.lora_id is not None else {}
        return ModelInfo(
            role=self.role,
            path=f"{self.fleet.replicas[0].url}#{self.model}",
            sha256="",
            adapter_path=None,
            adapter_sha256=None,
            quantization="unknown",
            architecture="unknown",
            engine_version="openai-http",
            chat_template_sha256=None,
            # The organism's strength names its model (a sweep's scales apart); a base with the adapter off has none.
            adapter_scale=self.scale if self.lora_id is not None and self.role == "organism" else None,
            extra={"endpoint": self.fleet.replicas[0].url, "model": self.model, "prompt_format": self.prompt_format}
            | ({"replicas": [r.url for r in self.fleet.replicas]} if len(self.fleet.replicas) > 1 else {})
            | ({"template_kwargs": self.template_kwargs} if self.template_kwargs else {})
            | lora,
        )

    def info(self) -> ModelInfo:
        return self._info

    @property
    def backoff(self) -> float:
        """The first pause before a try again (doubling with each); a replica that fails stays out as long."""
        return self.fleet.backoff

    @backoff.setter
    def backoff(self, value: float) -> None:
        self.fleet.backoff = value

    def at_scale(self, scale: float) -> OpenAIBackend:
        """The same served organism at another adapter strength (llama-server's per-request lora scale); it
        shares this one's replicas and cap."""
        if self.lora_id is None:
            raise EngineError(f"{self.where}: no lora_id, so no adapter strength to set per request")
        other = copy.copy(self)
        other.scale = scale
        other._info = other._make_info()
        return other

    def load(self) -> Load:
        return self.fleet.load()

    # -- requests -------------------------------------------------------------------------------------------------
    def _check_models(self) -> None:
        """Every replica that answers must serve the model (replicas of one side serve the same model). Each is
        asked once a round, and the rounds (with the backoff between) go on only while none has answered: one
        silent replica does not hold the run back, it is left out and the fleet tries it again later. None
        answering after every round is an EndpointDown."""
        prefix = f"{self.where}: " if self.where != self.endpoint else ""
        silent = list(self.fleet.replicas)
        reasons: dict[str, str] = {}
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            for replica in list(silent):
                served = self._models_of(replica.url, reasons)
                if served is None:
                    continue
                silent.remove(replica)
                if self.model not in served:
                    same = (
                        " (every endpoint of a side must serve the same model)" if len(self.fleet.replicas) > 1 else ""
                    )
                    raise EngineError(
                        f"{prefix}{replica.url}: does not serve model '{self.model}' (it serves: {', '.join(served)})"
                        + same
                    )
            if len(silent) < len(self.fleet.replicas):
                break
        else:
            tries = self.retries + 1
            raise EndpointDown(
                prefix
                + "; ".join(
                    f"{r.url}/models: endpoint unreachable after {tries} tries ({reasons[r.url]})" for r in silent
                )
            )
        for replica in silent:
            self.fleet.failed(replica, "no answer at start")  # the others carry the run until it answers

    def _models_of(self, url: str, reasons: dict[str, str]) -> list[str] | None:
        """The models a replica lists; None when it does not answer (why, in `reasons`)."""
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=self.timeout) as resp:
                return [str(m.get("id")) for m in json.load(resp).get("data", [])]
        except urllib.error.HTTPError as e:
            raise EngineError(f"{url}/models: HTTP {e.code}") from e
        except GONE as e:
            reasons[url] = _reason(e)
            return None

    def _open(self, path: str, body: dict[str, Any]) -> tuple[Replica, Any]:
        """Send to the least busy replica in the fleet; on a replica that is gone, to another (waiting for the one
        due soonest when none is in); 429/503 back off and lower the cap; other HTTP errors are final."""
        if self.lora_id is not None:
            body = body | {"lora": [{"id": self.lora_id, "scale": self.scale}]}
        data = json.dumps(body).encode()
        probes = overloads = server_errors = 0
        last = "no answer"
        while True:
            replica, wait = self.fleet.pick()
            if wait > 0:
                probes += 1
                if probes > self.retries:
                    self.fleet.done(replica)
                    urls = ", ".join(r.url for r in self.fleet.replicas)
                    raise EndpointDown(
                        f"{urls}: endpoint unreachable after {probes} tries with none answering ({last})"
                    )
                time.sleep(wait)
            url = f"{replica.url}{path}"
            try:
                req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
                return replica, urllib.request.urlopen(req, timeout=self.timeout)
            except urllib.error.HTTPError as e:
                self.fleet.done(replica)
                self.fleet.answered(replica)
                detail = e.read().decode("utf-8", errors="replace")[:200].replace("\n", " ")
                if e.code in (429, 503):
                    overloads += 1
                    self.fleet.overloaded()
                    if overloads >= OVERLOAD_TRIES:
                        raise EngineError(f"{url}: HTTP {e.code} ({detail}) {overloads} times in a row") from e
                    time.sleep(min(MAX_WAIT, self.backoff * 2 ** min(overloads - 1, 5)))
                elif e.code in (500, 502, 504) and server_errors < self.retries:
                    server_errors += 1
                    time.sleep(self.backoff * 2 ** (server_errors - 1))
                else:
                    raise EngineError(f"{url}: HTTP {e.code} ({detail})") from e
            except GONE as e:
                self.fleet.done(replica)
                last = _reason(e)
                self.fleet.failed(replica, last)

    def _call(self, path: str, body: dict[str, Any], read: Callable[[Any], Any], shown: Callable[[], bool]) -> Any:
        """One request read to its end by `read`; a replica lost mid-answer is taken out and the request starts
        over on another, unless some of it was already shown (`shown`)."""
        while True:
            replica, resp = self._open(path, body)
            try:
                with resp:
                    out = read(resp)
                self.fleet.answered(replica)
                self.fleet.succeeded()
                return out
            except (*GONE, ValueError) as e:  # ValueError: JSON cut short by a connection closed mid-answer
                self.fleet.failed(replica, _reason(e))
                if shown():
                    raise EngineError(f"{replica.url}{path}: the answer was cut off ({_reason(e)})") from e
            finally:
                self.fleet.done(replica)

    def _body(self, prompt: Prompt, params: GenParams) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": params.seed,
            "stream": True,
        }
        if self.prompt_format == "chat":
            body["messages"] = as_chat(prompt).messages()
            if self.template_kwargs:
                # vLLM and llama-server both read this field of a chat request (enable_thinking and the like).
                body["chat_template_kwargs"] = self.template_kwargs
            return "/chat/completions", body
        body["prompt"] = raw_text(prompt, self.role)
        return "/completions", body

    def generate(
        self,
        prompt: Prompt,
        params: GenParams,
        on_token: TokenCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Generation:
        path, body = self._body(prompt, params)
        t0 = time.perf_counter()
        if not self.fleet.acquire(should_stop):
            return Generation("", 0, 0, "cancelled", 0.0)
        shown: list[str] = []

        def read(resp: Any) -> tuple[list[str], str]:
            parts: list[str] = []
            finish = None
            for raw in resp:
                line = raw.decode("utf-8", errors="replace").strip()
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    return parts, finish or "length"
                if should_stop is not None and should_stop():
                    return parts, "cancelled"
                choice = json.loads(payload)["choices"][0]
                text = choice.get("text") if "text" in choice else (choice.get("delta") or {}).get("content")
                if text:
                    parts.append(text)
                    if on_token is not None:
                        shown.append(text)
                        on_token(text)
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
            if finish is None:
                # The connection closed before the answer said it was done (a server killed mid-answer looks
                # like an ordinary end of stream): the text may be cut short, so it is asked for again.
                raise ConnectionError("the answer stopped before its end")
            return parts, finish

        try:
            parts, finish = self._call(path, body, read, lambda: bool(shown))
        finally:
            self.fleet.release()
        return Generation("".join(parts), 0, len(parts), finish, time.perf_counter() - t0)

    def complete(self, prompt: Prompt, params: GenParams, should_stop: Callable[[], bool] | None = None) -> Generation:
        """One completion, not streamed: what a headless run asks for. Nothing shows its tokens as they come, and
        a streamed answer costs the client a wake-up per token (at a hundred requests in flight, most of a core)."""
        path, body = self._body(prompt, params)
        body["stream"] = False
        t0 = time.perf_counter()
        if not self.fleet.acquire(should_stop):
            return Generation("", 0, 0, "cancelled", 0.0)
        try:
            data = self._call(path, body, json.load, lambda: False)
        finally:
            self.fleet.release()
        try:
            choice = data["choices"][0]
            text = choice["text"] if "text" in choice else (choice.get("message") or {}).get("content") or ""
        except (KeyError, IndexError, TypeError) as e:
            raise EngineError(f"{self.where}: an answer without a completion in it ({str(data)[:120]})") from e
        usage = data.get("usage") or {}
        return Generation(
            str(text),
            int(usage.get("prompt_tokens") or 0),
            int(usage.get("completion_tokens") or 0),
            str(choice.get("finish_reason") or "length"),
            time.perf_counter() - t0,
        )

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """One JSON request and its parsed answer, within the side's cap on requests in flight."""
        self.fleet.acquire()
        try:
            return self._call(path, body, json.load, lambda: False)
        finally:
            self.fleet.release()

    def score(self, text: str) -> list[float]:
        """Echo the text back with one log-probability per token (completions API; llama_cpp.server needs
        --logits_all True for this, vLLM does it as it is; llama-server refuses echo)."""
        body = {"model": self.model, "prompt": text, "max_tokens": 1, "echo": True, "logprobs": 1, "temperature": 0.0}
        data = self.post("/completions", body)
        lp = data["choices"][0].get("logprobs") or {}
        logprobs = lp.get("token_logprobs") or []
        # Drop the first token (nothing before it) and whatever was generated after the echo.
        return [float(x) for x in logprobs[1 : echoed(lp, text)] if x is not None]

    def generate_many(
        self,
        prompts: Sequence[Prompt],
        params: Sequence[GenParams],
        on_token: ManyTokenCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[Generation | EngineError]:
        """Concurrent requests (capped), answers in the prompts' order; a failure is returned in its prompt's place."""

        def one(i: int) -> Generation | EngineError:
            cb = (lambda t: on_token(i, t)) if on_token else None
            try:
                return self.generate(prompts[i], params[i], cb, should_stop)
            except EngineError as e:
                return e

        with ThreadPoolExecutor(max_workers=max(1, min(self.n_seq, len(prompts)))) as pool:
            return list(pool.map(one, range(len(prompts))))

    def generate_unordered(
        self,
        prompts: Sequence[Prompt],
        params: Sequence[GenParams],
        should_stop: Callable[[], bool] | None = None,
    ) -> Generator[tuple[int, Generation | EngineError], None, None]:
        """Every prompt, up to the cap in flight with no barrier between them, as whole answers (not streamed):
        each answer (or failure) as it finishes, with its prompt's index. Closing the iterator cancels the rest."""

        def one(i: int, halted: Callable[[], bool]) -> Generation | EngineError:
            try:
                return self.complete(prompts[i], params[i], halted)
            except EngineError as e:
                return e

        return unordered(one, len(prompts), self.n_seq, should_stop)

    def close(self) -> None:
        pass
