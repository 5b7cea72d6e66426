"""OpenAI-compatible HTTP backend (llama-server, vLLM, llama_cpp.server): streaming completions for scale-out."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from inspector.engine.base import (
    BATCH,
    GENERATE,
    PROMPT_LOGPROBS,
    SCORE,
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

ManyTokenCallback = Callable[[int, str], None]


class EndpointDown(EngineError):
    """The server cannot be reached: the run stops (keeping what finished) rather than record failures."""


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


class OpenAIBackend:
    """One served model. Requests are bounded per backend, retried with backoff, and time out."""

    capabilities = frozenset({GENERATE, BATCH, SCORE, PROMPT_LOGPROBS})

    def __init__(
        self,
        endpoint: str,
        model: str,
        *,
        role: str = "model",
        prompt_format: PromptFormat = "raw",
        template_kwargs: dict[str, Any] | None = None,
        timeout: float = 120.0,
        retries: int = 3,
        backoff: float = 0.5,
        concurrency: int = 8,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.model, self.role, self.prompt_format = model, role, prompt_format
        self.template_kwargs = dict(template_kwargs or {})
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.n_seq = concurrency  # the runner hands this many prompts at a time to generate_many
        self._slots = threading.BoundedSemaphore(concurrency)
        served = self._served_models()
        if model not in served:
            raise EngineError(f"{self.endpoint}: does not serve model '{model}' (it serves: {', '.join(served)})")
        self._info = ModelInfo(
            role=role,
            path=f"{self.endpoint}#{model}",
            sha256="",
            adapter_path=None,
            adapter_sha256=None,
            quantization="unknown",
            architecture="unknown",
            engine_version="openai-http",
            chat_template_sha256=None,
            extra={"endpoint": self.endpoint, "model": model, "prompt_format": prompt_format}
            | ({"template_kwargs": self.template_kwargs} if self.template_kwargs else {}),
        )

    def info(self) -> ModelInfo:
        return self._info

    def _request(self, path: str, body: dict[str, Any] | None) -> Any:
        """Open a request with retries on connection errors, 429 and 5xx; other HTTP errors are final."""
        url = f"{self.endpoint}{path}"
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                req = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
                return urllib.request.urlopen(req, timeout=self.timeout)
            except urllib.error.HTTPError as e:
                detail = e.read().decode("utf-8", errors="replace")[:200].replace("\n", " ")
                if e.code in (429, 500, 502, 503, 504) and attempt < self.retries:
                    last = e
                else:
                    raise EngineError(f"{url}: HTTP {e.code} ({detail})") from e
            except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
                last = e
            time.sleep(self.backoff * 2**attempt)
        reason = getattr(last, "reason", last)
        raise EndpointDown(f"{url}: endpoint unreachable after {self.retries + 1} tries ({reason})")

    def _served_models(self) -> list[str]:
        with self._request("/models", None) as resp:
            data = json.load(resp)
        return [str(m.get("id")) for m in data.get("data", [])]

    def generate(
        self,
        prompt: Prompt,
        params: GenParams,
        on_token: TokenCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Generation:
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
            path = "/chat/completions"
        else:
            body["prompt"] = raw_text(prompt, self.role)
            path = "/completions"
        t0 = time.perf_counter()
        parts: list[str] = []
        finish = "length"
        with self._slots, self._request(path, body) as resp:
            for raw in resp:
                line = raw.decode("utf-8", errors="replace").strip()
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                if should_stop is not None and should_stop():
                    finish = "cancelled"
                    break
                choice = json.loads(payload)["choices"][0]
                text = choice.get("text") if "text" in choice else (choice.get("delta") or {}).get("content")
                if text:
                    parts.append(text)
                    if on_token is not None:
                        on_token(text)
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
        return Generation("".join(parts), 0, len(parts), finish, time.perf_counter() - t0)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """One JSON request and its parsed answer, within the backend's concurrency limit."""
        with self._slots, self._request(path, body) as resp:
            return json.load(resp)

    def score(self, text: str) -> list[float]:
        """Echo the text back with one log-probability per token (completions API; llama_cpp.server needs
        --logits_all True for this, vLLM and llama-server do it as they are)."""
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
        """Concurrent requests (bounded); a failure is returned in its prompt's place."""

        def one(i: int) -> Generation | EngineError:
            cb = (lambda t: on_token(i, t)) if on_token else None
            try:
                return self.generate(prompts[i], params[i], cb, should_stop)
            except EngineError as e:
                return e

        with ThreadPoolExecutor(max_workers=self.n_seq) as pool:
            return list(pool.map(one, range(len(prompts))))

    def close(self) -> None:
        pass
