"""The front-end bundle is stored once per notebook: one live widget carries it, the others
a stub that renders with it; when that widget closes, another takes the bundle over."""

from __future__ import annotations

import base64
import gzip
import re
import weakref
from typing import Any

import pytest

from powawidget.notebook import bundle
from powawidget.notebook.widget import ChatWidget


def carries_bundle(widget: Any) -> bool:
    return widget._esm == bundle.holder_esm() and bool(widget._css)


def test_one_widget_carries_the_bundle_and_hands_it_over_when_closed(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A kernel of its own: widgets other tests left open do not count here.
    monkeypatch.setattr(bundle, "_holders", weakref.WeakSet())
    monkeypatch.setattr(bundle, "_widgets", weakref.WeakSet())
    first, second, third = (ChatWidget("agt_demo", client=client) for _ in range(3))
    try:
        holders = [w for w in (first, second, third) if carries_bundle(w)]
        assert len(holders) == 1  # one copy, whichever widget got it first
        stubs = [w for w in (first, second, third) if w not in holders]
        assert all(w._esm == bundle.STUB_ESM and w._css == "" for w in stubs)
        assert len(bundle.STUB_ESM) < 1_000 < len(holders[0]._esm)
        holders[0].close()
        assert sum(carries_bundle(w) for w in stubs) == 1  # handed over, once
    finally:
        for widget in (first, second, third):
            widget.close()


def test_the_bundle_registers_the_module_the_stub_waits_for() -> None:
    assert 'Symbol.for("powawidget.module")' in bundle.ESM.read_text("utf-8")
    assert 'Symbol.for("powawidget.module")' in bundle.STUB_ESM


def test_the_bundle_is_saved_packed_and_unpacks_to_the_built_module() -> None:
    packed = bundle.holder_esm()
    assert isinstance(packed, str) and "DecompressionStream" in packed
    data = re.search(r'const PACKED = "([A-Za-z0-9+/=]+)";', packed)
    assert data, packed[:300]
    assert gzip.decompress(base64.b64decode(data.group(1))) == bundle.ESM.read_bytes()
    assert len(packed) < 0.6 * bundle.ESM.stat().st_size  # what a saved notebook carries


def test_under_hmr_the_holder_keeps_the_bundles_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYWIDGET_HMR", "1")
    assert bundle.holder_esm() == bundle.ESM
