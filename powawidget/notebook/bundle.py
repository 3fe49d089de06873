"""The front-end bundle, stored once per notebook instead of once per widget.

A widget's `_esm` and `_css` are synced traits, so a saved notebook keeps a copy of the
~130 KB bundle in the state of every widget. Only one live widget of this kernel (the
holder) carries the bundle; the others carry `STUB_ESM`, which renders with the module the
holder's bundle registers on the page (anywidget loads every model's module when the model
is created, whatever is displayed). When the holder closes, another live widget takes the
bundle over, so the kernel's saved state always holds one copy. Written here, not found in
a library: anywidget has no notion of a module shared between widgets.

That one copy is packed: a small ES module holding the bundle gzip-compressed (base64),
which the browser inflates with its own `DecompressionStream` and imports. A saved
notebook then carries ~60 KB instead of ~140 KB (every executed notebook stays under
300 KB). With `ANYWIDGET_HMR` set (development) the holder keeps the bundle's file, so
anywidget reloads it on rebuild.
"""

from __future__ import annotations

import base64
import functools
import gzip
import os
import weakref
from pathlib import Path
from typing import Any

STATIC = Path(__file__).resolve().parent.parent / "static"
ESM = STATIC / "widget.js"
CSS = STATIC / "widget.css"

STUB_ESM = """// powawidget: the panel's code is stored once per notebook, with another widget.
const KEY = Symbol.for("powawidget.module");
async function module() {
  for (let waited = 0; waited < 15000; waited += 50) {
    if (globalThis[KEY]) return globalThis[KEY];
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}
export default {
  async render(props) {
    const found = await module();
    if (found) return found.render(props);
    props.el.textContent = "The chat panel's code is saved with the notebook's first " +
      "powawidget panel, which is not loaded here: run the notebook again.";
  },
};
"""
"""What a widget that does not hold the bundle runs: it waits for the module the full bundle
registers under `Symbol.for("powawidget.module")` (js/src/index.js)."""

PACKED_ESM = """// powawidget: the panel's code, gzipped; the browser inflates and imports it.
const PACKED = "@@BUNDLE@@";
const bytes = Uint8Array.from(atob(PACKED), (c) => c.charCodeAt(0));
const inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
const source = await new Response(inflated).text();
const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
const widget = (await import(url)).default;
URL.revokeObjectURL(url);
export default widget;
"""
"""What the holder runs: the bundle packed (see the module's docstring)."""


def holder_esm() -> str | Path:
    """The `_esm` of the widget that carries the bundle: packed, or the file under HMR."""
    if os.environ.get("ANYWIDGET_HMR", "") not in ("", "0"):
        return ESM
    stat = ESM.stat()
    return _packed(stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _packed(mtime_ns: int, size: int) -> str:
    """PACKED_ESM around the bundle as built (cached per build: its mtime and size)."""
    data = base64.b64encode(gzip.compress(ESM.read_bytes(), 9, mtime=0)).decode("ascii")
    return PACKED_ESM.replace("@@BUNDLE@@", data)


_holders: weakref.WeakSet[Any] = weakref.WeakSet()
_widgets: weakref.WeakSet[Any] = weakref.WeakSet()


def _live(widget: Any) -> bool:
    """True while the widget has an open comm (ipywidgets sets `comm` to None on close)."""
    return getattr(widget, "comm", None) is not None


def share(widget: Any) -> None:
    """Before `AnyWidget.__init__`: the whole bundle for the first live widget, the stub for
    the rest (an instance attribute shadows the class's `_esm` / `_css`)."""
    _widgets.add(widget)
    if any(_live(w) for w in _holders):
        widget._esm, widget._css = STUB_ESM, ""
    else:
        widget._esm = holder_esm()
        _holders.add(widget)


def release(widget: Any) -> None:
    """After `widget` closed: if it held the bundle, hand it to another live widget."""
    if widget not in _holders:
        return
    _holders.discard(widget)
    if any(_live(w) for w in _holders):
        return
    successor = next((w for w in _widgets if _live(w) and w is not widget), None)
    if successor is not None:
        successor._esm, successor._css = holder_esm(), CSS.read_text("utf-8")
        _holders.add(successor)
