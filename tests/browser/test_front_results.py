"""Tool results as the card shows them (render/json.js on its own page): pretty JSON, long
text behind "Show all", and a visible mark where a result is only a preview or was cut."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from harness_bundle import bundle_module

pytestmark = pytest.mark.browser

ENTRY = """
import { resultView, valueView } from "./src/render/json.js";
window.showResult = (result, flags) => {
  const host = document.getElementById("host");
  host.replaceChildren(resultView(result, flags));
};
window.showValue = (value) => {
  const host = document.getElementById("host");
  host.replaceChildren(valueView(value));
};
"""


@pytest.fixture
def results(module_page):
    module_page.add_script_tag(content=bundle_module(ENTRY))
    return module_page


def test_a_server_preview_ends_with_a_visible_mark(results, artifacts_dir: Path):
    preview = "The Orbit Team plan covers 3 to 50 seats and includes priority sup"
    results.evaluate("([r, f]) => showResult(r, f)", [preview, {"preview": True}])
    host = results.locator("#host")
    assert host.locator("[data-testid=result-cut]").inner_text().startswith("Preview only")
    after = results.locator("#host pre").evaluate("e => getComputedStyle(e, '::after').content")
    assert "…" in after  # the text visibly stops where it was cut
    host.screenshot(path=str(artifacts_dir / "tool_result_preview.png"))


def test_a_full_json_result_is_pretty_and_unmarked(results):
    data = {"items": [{"sku": "DCK-2H", "price": 129}], "total": 1}
    results.evaluate("([r, f]) => showResult(r, f)", [json.dumps(data), {}])
    host = results.locator("#host")
    assert host.locator("[data-testid=result-cut]").count() == 0
    assert '"sku": "DCK-2H"' in host.inner_text()


def test_long_text_is_collapsed_behind_show_all(results):
    text = "word " * 1000
    results.evaluate("([r, f]) => showResult(r, f)", [text, {}])
    show = results.locator("[data-testid=show-all]")
    assert show.inner_text().startswith("Show all (5,000 characters)")
    show.click()
    assert len(results.locator("#host pre").inner_text()) >= 4999


def test_small_values_read_inline_and_large_ones_fold(results):
    results.evaluate("(v) => showValue(v)", {"tags": ["dock", "usb-c"], "limit": 5})
    assert results.locator(".pw-json-inline").first.inner_text() == '["dock", "usb-c"]'
    big = {"rows": [{"id": i, "name": f"row number {i}", "tags": ["a", "b"]} for i in range(15)]}
    results.evaluate("(v) => showValue(v)", big)
    toggles = results.locator("[aria-expanded=false]")
    assert toggles.count() >= 1  # nested rows fold in a value this large


COPY = """([selector, whole]) => {
  const tree = document.querySelector(selector);
  const range = document.createRange();
  range.selectNodeContents(whole ? tree : tree.querySelector('.pw-json-children'));
  getSelection().removeAllRanges();
  getSelection().addRange(range);
  const event = new ClipboardEvent('copy', {clipboardData: new DataTransfer(), bubbles: true,
                                            cancelable: true});
  tree.querySelector('.pw-json-key').dispatchEvent(event);
  return {copied: event.clipboardData.getData('text/plain'), selected: getSelection().toString()};
}"""


def test_a_json_view_copies_as_valid_json_folded_parts_included(results):
    small = {"order": "ORD-1042", "amount": 49, "items": [{"sku": "DCK-2H", "qty": 1}], "ok": True}
    results.evaluate("(v) => showValue(v)", small)
    unfolded = results.locator("[data-testid=json]")
    assert json.loads(unfolded.inner_text()) == small  # commas between the rows
    assert json.loads(results.evaluate(COPY, ["[data-testid=json]", True])["copied"]) == small
    big = {"rows": [{"id": i, "name": f"row number {i}", "tags": ["a", "b"]} for i in range(15)]}
    results.evaluate("(v) => showValue(v)", big)
    assert results.locator("[aria-expanded=false]").count() >= 1  # folded parts
    assert json.loads(results.evaluate(COPY, ["[data-testid=json]", True])["copied"]) == big
    part = results.evaluate(COPY, ["[data-testid=json]", False])
    assert part["copied"] == ""  # a part of the tree copies as the browser selected it
