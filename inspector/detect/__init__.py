"""Detectors: pure functions over text (no I/O, no Textual) that return character spans."""

from inspector.detect.spans import Span

__all__ = ["Span"]
