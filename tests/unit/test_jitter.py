"""The logit jitter's own promises on synthetic rows: off changes nothing, the same row on the same path gets the
same noise, another path or another seed other noise, of the size asked for; a bad setting is one line."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.engine import jitter
from inspector.engine.base import EngineError


@pytest.fixture
def rows() -> np.ndarray:  # type: ignore[type-arg]
    return np.random.default_rng(3).standard_normal((3, 50_000)).astype(np.float32)


def test_off_hands_back_the_same_array(rows: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[type-arg]
    monkeypatch.delenv(jitter.ENV, raising=False)
    assert jitter.setting() is None
    assert jitter.rows(rows, (jitter.GENERATE, 0, 3)) is rows
    one = rows[0]
    assert jitter.row(one, (jitter.SCORE, 3, 0)) is one
    emb = rows[0].astype(np.float64)
    assert jitter.embedding(emb, (0,)) is emb


def test_same_path_same_noise_other_path_other_noise(rows: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[type-arg]
    monkeypatch.setenv(jitter.ENV, "0.1:5")
    a = jitter.rows(rows, (jitter.GENERATE, 0, 3))
    assert a is not rows and np.array_equal(a, jitter.rows(rows.copy(), (jitter.GENERATE, 0, 3)))
    noise = (a - rows).astype(np.float64)
    assert all(abs(n.std() - 0.1) < 0.005 and abs(n.mean()) < 0.005 for n in noise)
    assert np.corrcoef(noise[0], noise[1])[0, 1] < 0.05  # rows of one decode: independent noise
    other = jitter.rows(rows, (jitter.GENERATE, 0, 4))  # the same bits in a batch of another size
    assert np.corrcoef(noise[0], (other - rows)[0])[0, 1] < 0.05
    assert np.array_equal(
        jitter.row(rows[1], (jitter.GENERATE, 0, 3)), jitter.rows(rows[1:2], (jitter.GENERATE, 0, 3))[0]
    )
    nudged = rows.copy()
    nudged[0, 0] = np.nextafter(nudged[0, 0], np.float32(np.inf))  # a last bit moved: a new draw
    assert np.corrcoef(noise[0], (jitter.rows(nudged, (jitter.GENERATE, 0, 3)) - nudged)[0])[0, 1] < 0.05
    monkeypatch.setenv(jitter.ENV, "0.1:6")
    assert np.corrcoef(noise[0], (jitter.rows(rows, (jitter.GENERATE, 0, 3)) - rows)[0])[0, 1] < 0.05


def test_embeddings_move_by_their_own_scale(rows: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[type-arg]
    monkeypatch.setenv(jitter.ENV, "on")
    assert jitter.setting() == jitter.Jitter(jitter.SIZE, 0)
    v = rows[0, :640].astype(np.float64) * 7.0
    moved = jitter.embedding(v, (0,))
    rel = np.sqrt(np.mean((moved - v) ** 2)) / np.sqrt(np.mean(v**2))
    assert abs(rel - jitter.EMBED_SIZE) < jitter.EMBED_SIZE * 0.2
    assert np.array_equal(moved, jitter.embedding(v.copy(), (0,)))


@pytest.mark.parametrize("raw", ["lots", "0.1:x", "-1", "0.1:2:3"])
def test_a_bad_setting_is_one_line(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(jitter.ENV, raw)
    with pytest.raises(EngineError) as e:
        jitter.setting()
    assert jitter.ENV in str(e.value) and "\n" not in str(e.value)
