"""Control-token spans: a model's special tokens written out as text (`<start_of_image>`, `<|im_end|>`, `</s>`)."""

from __future__ import annotations

import re

from inspector.detect.spans import Span

VERSION = "control-1"
# The shapes special tokens take across the families people fine-tune: ChatML and Llama 3 (`<|im_end|>`,
# `<|eot_id|>`), Gemma (`<start_of_turn>`, `<end_of_image>`, `<unused12>`, `<eos>`), SentencePiece (`<s>`, `</s>`),
# Mistral (`[INST]`). A chat model's reasoning markers (`<think>`) are not among them: they are a trace's bounds.
PATTERN = re.compile(
    r"<\|[A-Za-z0-9_.:\-]{1,48}\|>"
    r"|<(?:start|end)_of_[a-z_]{1,24}>"
    r"|</?(?:s|bos|eos|pad|unk|mask)>"
    r"|<unused\d{1,4}>"
    r"|\[/?INST\]"
)


class ControlDetector:
    """Every control token in a completion; a model that writes them (a base model given a chat turn, a fried
    organism) has text that reads wrongly, and they are counted apart from leaks."""

    kind = "control"
    version = VERSION

    def detect(self, text: str, prompt: str | None = None) -> list[Span]:
        return [Span("control", m.start(), m.end(), m.group(), 100.0, m.group()) for m in PATTERN.finditer(text)]
