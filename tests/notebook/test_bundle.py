"""The front-end bundle is stored once per notebook: one live widget carries it, the others
a stub that renders with it; when that widget closes, another takes the bundle over."""

from __future__ import annotations

import weakref
from typing import Any

import pytest

from powawidget.notebook import bundle
from powawidget.notebook.widget import ChatWidget


def carries_bundle(widget: Any) -> bool:
    return widget._esm == bundle.ESM.read_text("utf-8") and bool(widget._css)


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
