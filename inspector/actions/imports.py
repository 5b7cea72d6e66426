"""Import: rollouts made elsewhere (JSONL, Inspect AI logs) into a session; with a pair, measured and their prompt
topics settled exactly as `detect` would."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inspector.actions.detect import detect_session
from inspector.detect.detector_set import DetectorSet
from inspector.engine.pair_spec import Pair
from inspector.store import Store


@dataclass(frozen=True)
class Imported:
    """Rollouts added, already present (skipped), failed samples kept out of the rates, topics settled."""

    added: int
    skipped: int
    failed: int
    judged: int


def import_file(path: Path, file: Path, role: str, pair: Pair | None, cache: Path) -> Imported:
    """Import `file` into the session at `path`; a refused import leaves no session file behind if there was none.
    The pair's detectors are built first, so a bad corpus is refused before the session is touched."""
    from inspector.formats.rollout_files import import_inspect_logs, import_rollouts

    detectors = DetectorSet.for_pair(pair, cache) if pair is not None else None
    existed = path.exists()
    try:
        with Store.open(path) as store:
            if file.is_dir() or file.suffix in (".eval", ".json"):
                added, skipped, failed = import_inspect_logs(store, file, role)
            else:
                added, skipped, failed = import_rollouts(store, file, role), 0, 0
            judged = 0
            if pair is not None:
                judged = detect_session(store, pair, cache, detectors).judged
    except BaseException:
        if not existed:
            for leftover in (path, path.with_name(path.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise
    return Imported(added, skipped, failed, judged)
