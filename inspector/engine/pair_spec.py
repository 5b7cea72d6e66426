"""A pair's keys in models.toml, checked: each side's model (a GGUF and adapter, or served endpoints) and the pair's
own settings; what a pair is once parsed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspector.engine.base import EngineError, PromptFormat


@dataclass(frozen=True)
class ModelSpec:
    """Where one side of a pair comes from: a GGUF, optionally with a LoRA adapter, or an endpoint."""

    gguf: str | None = None
    adapter: str | None = None
    endpoint: str | None = None  # the first of `endpoints`, for what names a served side
    model: str | None = None
    adapter_scale: float = 1.0  # the adapter's strength; 0 is the base itself
    endpoints: tuple[str, ...] = ()  # replicas serving the same model (`endpoint` alone is a fleet of one)
    lora_id: int | None = None  # llama-server's id of a loaded adapter, set per request with a scale
    concurrency: int | None = None  # this served side's requests in flight (else the pair's, else the default)

    @property
    def scalable(self) -> bool:
        """An adapter strength can be set: a GGUF adapter in-process, or a served adapter with a lora_id."""
        return bool(self.adapter) or self.lora_id is not None

    def describe(self) -> str:
        if self.endpoint:
            more = f" (+{len(self.endpoints) - 1} replicas)" if len(self.endpoints) > 1 else ""
            lora = f" lora {self.lora_id} x {self.adapter_scale:g}" if self.lora_id is not None else ""
            return f"{self.endpoint}{more} model {self.model}{lora}"
        scale = f" x {self.adapter_scale:g}" if self.adapter and self.adapter_scale != 1.0 else ""
        return f"{self.gguf}" + (f" + {self.adapter}{scale}" if self.adapter else "")


@dataclass(frozen=True)
class Pair:
    """An organism and its base, with what the detectors look for."""

    name: str
    organism: ModelSpec
    base: ModelSpec
    format: PromptFormat = "raw"
    terms: tuple[str, ...] = ()
    corpus: Path | None = None
    key_facts: tuple[str, ...] = ()
    quirk: str | None = None
    term_thresholds: dict[str, float] = field(default_factory=dict)
    probes: tuple[str, ...] = ()  # prompts that should draw out the trained property
    system_prompt: str | None = None  # the condition a run gets unless its command line says otherwise
    chat_template: Path | None = None  # a Jinja file replacing the GGUF's template
    template_kwargs: dict[str, Any] = field(default_factory=dict)  # e.g. enable_thinking = false
    reasoning: tuple[str, str] | None = None  # the markers around a reasoning trace, e.g. <think> and </think>
    concurrency: int | None = None  # requests in flight per served side (None: the default, or --concurrency)
    source: Path | None = None  # the models file it came from, for messages that must name it


MAX_SCALE = 4.0
PAIR_KEYS = {
    *("format", "organism", "base", "terms", "corpus", "key_facts", "quirk", "term_thresholds", "probes"),
    *("system_prompt", "chat_template", "template_kwargs", "reasoning", "concurrency"),
}
DEFAULT_CONCURRENCY = 64


def check_scale(scale: float, where: str) -> float:
    """An adapter strength between 0 (the base) and MAX_SCALE; beyond that a LoRA's outputs are noise."""
    if not 0.0 <= scale <= MAX_SCALE or scale != scale:
        raise EngineError(f"{where}: adapter scale must be between 0 and {MAX_SCALE:g}, not {scale:g}")
    return scale


def side_spec(raw: Any, where: str) -> ModelSpec:
    if not isinstance(raw, dict):
        raise EngineError(f"{where}: must be a table with 'gguf' (and optional 'adapter') or 'endpoint'")
    allowed = {"gguf", "adapter", "endpoint", "endpoints", "model", "adapter_scale", "lora_id", "concurrency"}
    unknown = set(raw) - allowed
    if unknown:
        raise EngineError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    served = _endpoints(raw, where)
    if not raw.get("gguf") and not served:
        raise EngineError(f"{where}: needs 'gguf' or 'endpoint'")
    if raw.get("gguf") and served:
        raise EngineError(f"{where}: has both 'gguf' and an endpoint: a side is one or the other")
    lora_id = raw.get("lora_id")
    if lora_id is not None:
        if not served:
            raise EngineError(
                f"{where}: lora_id is llama-server's id of an adapter it loaded, for a served side; a GGUF side names"
                " its adapter file with 'adapter'"
            )
        if isinstance(lora_id, bool) or not isinstance(lora_id, int) or lora_id < 0:
            raise EngineError(
                f"{where}: lora_id must be a whole number >= 0 (the adapter's --lora order), not {lora_id!r}"
            )
    if "concurrency" in raw and not served:
        raise EngineError(f"{where}: concurrency is for a served side; a GGUF side's batch is run --batch")
    scale = raw.get("adapter_scale", 1.0)
    if "adapter_scale" in raw:
        if isinstance(scale, bool) or not isinstance(scale, int | float):
            raise EngineError(f"{where}: adapter_scale must be a number, not {scale!r}")
        if not raw.get("adapter") and lora_id is None:
            raise EngineError(f"{where}: adapter_scale needs an 'adapter' (or a served 'lora_id') to scale")
    text = {k: str(raw[k]) if raw.get(k) is not None else None for k in ("gguf", "adapter", "model")}
    return ModelSpec(
        gguf=text["gguf"],
        adapter=text["adapter"],
        model=text["model"],
        endpoint=served[0] if served else None,
        endpoints=served,
        lora_id=lora_id,
        adapter_scale=check_scale(float(scale), where),
        concurrency=concurrency_key(raw, where).get("concurrency"),
    )


def _endpoints(raw: dict[str, Any], where: str) -> tuple[str, ...]:
    """A side's replicas: `endpoint = URL` or `endpoints = [URL, ...]`, each an http(s) URL, none twice."""
    if "endpoint" in raw and "endpoints" in raw:
        raise EngineError(f"{where}: give 'endpoint' or 'endpoints', not both")
    if "endpoint" in raw:
        urls = [raw["endpoint"]]
    elif "endpoints" in raw:
        urls = raw["endpoints"]
        if not isinstance(urls, list) or not urls:
            raise EngineError(f'{where}: endpoints must be a non-empty list of URLs, e.g. ["http://a:8000/v1"]')
    else:
        return ()
    for url in urls:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise EngineError(f"{where}: endpoint {url!r} is not an http(s) URL")
    clean = [u.rstrip("/") for u in urls]
    twice = sorted({u for u in clean if clean.count(u) > 1})
    if twice:
        raise EngineError(f"{where}: endpoints lists {', '.join(twice)} more than once")
    if not raw.get("model"):
        raise EngineError(f"{where}: a served side needs 'model', the name its server lists")
    return tuple(clean)


def concurrency_key(raw: dict[str, Any], where: str) -> dict[str, Any]:
    if "concurrency" not in raw:
        return {}
    value = raw["concurrency"]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise EngineError(
            f"{where}: concurrency (requests in flight per served side) must be at least 1, not {value!r}"
        )
    return {"concurrency": value}


def string_list(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        raise EngineError(f"{where}: must be a list of non-empty strings")
    return tuple(raw)


def chat_keys(raw: dict[str, Any], where: str, folder: Path) -> dict[str, Any]:
    """The pair's chat settings, checked: a system prompt, a template file, its arguments, reasoning markers."""
    out: dict[str, Any] = {}
    system = raw.get("system_prompt")
    if system is not None:
        if not isinstance(system, str) or not system.strip():
            raise EngineError(f"{where}: system_prompt must be a non-empty string")
        out["system_prompt"] = system
    if "chat_template" in raw:
        value = raw["chat_template"]
        if not isinstance(value, str) or not value.strip():
            raise EngineError(f"{where}: chat_template must be the path of a Jinja file")
        path = Path(value).expanduser()
        path = path if path.is_absolute() else folder / path
        if not path.is_file():
            raise EngineError(f"{where}: chat_template {path} does not exist")
        out["chat_template"] = path
    if "template_kwargs" in raw:
        if not isinstance(raw["template_kwargs"], dict):
            raise EngineError(f"{where}: template_kwargs must be a table, e.g. {{ enable_thinking = false }}")
        out["template_kwargs"] = dict(raw["template_kwargs"])
    if "reasoning" in raw:
        markers = raw["reasoning"]
        if not (isinstance(markers, list) and len(markers) == 2 and all(isinstance(m, str) and m for m in markers)):
            raise EngineError(f'{where}: reasoning must be two non-empty strings, e.g. ["<think>", "</think>"]')
        out["reasoning"] = (markers[0], markers[1])
    if raw.get("format", "raw") == "raw" and out:
        # A raw pair has no messages to put a system prompt in, no template to replace, no turn to split.
        raise EngineError(f'{where}: {", ".join(sorted(out))} need format = "chat"')
    return out
