"""The demo agent's bundled knowledge base: a fictional company's catalogue and policies.

Loaded once from `data/knowledge.json`; the search here is deliberately simple (weighted
keyword matching) so answers are deterministic and need no network.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

_STOPWORDS_WORDS = (
    "a an and any are best can do does for from have i in is it me my of on one or our "
    "plan plans product products the to we what which who with you your"
)
STOPWORDS = frozenset(_STOPWORDS_WORDS.split())
# Short names that are also everyday words: only a product when written like a name.
AMBIGUOUS_NAMES = frozenset({"team", "business", "enterprise", "starter", "insights"})


@dataclass(frozen=True)
class Product:
    """One thing the company sells: a plan, an add-on or a device."""

    id: str
    name: str
    kind: str
    price: float
    billing: str
    per_seat: bool
    min_seats: int | None
    max_seats: int | None
    best_for: str
    summary: str
    features: tuple[str, ...]
    tags: tuple[str, ...]
    specs: dict[str, float] = field(default_factory=dict)

    @property
    def short_name(self) -> str:
        """The name without the brand, e.g. "Team" for "Orbit Team"."""
        return self.name.split(" ", 1)[-1]

    @property
    def seats_label(self) -> str:
        """Seat range in words, e.g. "3–50", "100+", "1" or "—"."""
        if self.min_seats is None:
            return "—"
        if self.max_seats is None:
            return f"{self.min_seats}+"
        if self.min_seats == self.max_seats:
            return str(self.min_seats)
        return f"{self.min_seats}–{self.max_seats}"

    @property
    def seats_phrase(self) -> str:
        """Seats in words for a sentence: "1 seat", "3–50 seats", "" for a device."""
        if self.min_seats is None:
            return ""
        return f"{self.seats_label} seat{'' if self.seats_label == '1' else 's'}"

    def fits(self, people: int) -> bool:
        """Whether a plan's seat range holds this many people."""
        low, high = self.min_seats or 1, self.max_seats or people
        return self.kind == "plan" and low <= people <= high

    @property
    def price_label(self) -> str:
        """Price with its billing unit, e.g. "$12 per seat / month"."""
        return f"${self.price:g} {self.billing}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what the search_catalogue tool returns)."""
        data = asdict(self)
        data["features"] = list(self.features)
        data["tags"] = list(self.tags)
        if not self.specs:
            data.pop("specs")
        return data


@dataclass(frozen=True)
class Policy:
    """One customer policy (refund, shipping, …) as a summary and its points."""

    topic: str
    title: str
    summary: str
    points: tuple[str, ...]
    keywords: tuple[str, ...]
    hours: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what the get_policy tool returns)."""
        data: dict[str, Any] = {"topic": self.topic, "title": self.title, "summary": self.summary}
        data["points"] = list(self.points)
        if self.hours:
            data["hours"] = self.hours
        return data


@dataclass(frozen=True)
class Company:
    """Who the demo agent works for."""

    name: str
    tagline: str
    website: str
    support_email: str
    billing_email: str
    currency: str


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    """The bundled JSON, read once."""
    text = resources.files("powawidget.server").joinpath("data/knowledge.json").read_text("utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def company() -> Company:
    """The fictional company behind the catalogue."""
    return Company(**_raw()["company"])


@lru_cache(maxsize=1)
def catalogue() -> tuple[Product, ...]:
    """Every product, in catalogue order (cheapest tier first, then add-ons and devices)."""
    products = []
    for item in _raw()["products"]:
        item = dict(item)
        item["features"] = tuple(item["features"])
        item["tags"] = tuple(item["tags"])
        item["specs"] = dict(item.get("specs", {}))
        products.append(Product(**item))
    return tuple(products)


@lru_cache(maxsize=1)
def policies() -> dict[str, Policy]:
    """Every policy by topic, in a stable order."""
    found = {}
    for item in _raw()["policies"]:
        item = dict(item)
        item["points"] = tuple(item["points"])
        item["keywords"] = tuple(item["keywords"])
        found[item["topic"]] = Policy(**item)
    return found


def product_named(name: str) -> Product | None:
    """The product with this id, full name or short name (any case), else None."""
    wanted = name.strip().lower()
    for product in catalogue():
        if wanted in (product.id, product.name.lower(), product.short_name.lower()):
            return product
    return None


def mentioned_products(text: str) -> list[Product]:
    """Products named in `text`, in order of first mention.

    Full names ("Orbit Team") always count; a bare short name counts when it cannot be an
    everyday word: "Hub" or "Solo" in any case, "Team"/"Business"/… only capitalised or
    followed by "plan"/"tier" (so "small teams" and "my business" name no product).
    """
    hits: list[tuple[int, Product]] = []
    for product in catalogue():
        short = re.escape(product.short_name)
        patterns = [rf"\b{re.escape(product.name)}\b", rf"\b{short}\s+(?:plan|tier)s?\b"]
        flags: list[int] = [re.IGNORECASE, re.IGNORECASE]
        if product.short_name.lower() in AMBIGUOUS_NAMES:
            patterns.append(rf"\b{short}\b")
            flags.append(0)
        else:
            patterns.append(rf"\b{short}\b")
            flags.append(re.IGNORECASE)
        starts = [
            m.start() for p, f in zip(patterns, flags, strict=True) if (m := re.search(p, text, f))
        ]
        if starts:
            hits.append((min(starts), product))
    hits.sort(key=lambda hit: hit[0])
    return [product for _, product in hits]


def search_terms(text: str) -> list[str]:
    """Lower-case search terms without stopwords or single characters, plural "s" stripped."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    kept = [w for w in words if w not in STOPWORDS and len(w) > 1]
    return [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in kept]


def search_products(query: str = "", names: list[str] | None = None) -> list[Product]:
    """Products matching `names` (exact) or the free-text `query` (ranked), else all of them."""
    if names:
        found = [product_named(name) for name in names]
        return [p for p in found if p is not None]
    terms = search_terms(query)
    if not terms:
        return list(catalogue())
    scored = []
    for index, product in enumerate(catalogue()):
        fields = (
            (product.name.lower(), 6),
            (" ".join(product.tags).lower(), 4),
            (product.best_for.lower(), 3),
            (product.kind, 3),
            (product.summary.lower(), 1),
            (" ".join(product.features).lower(), 1),
        )
        score = 0
        for term in terms:
            for text, weight in fields:
                if re.search(rf"\b{re.escape(term)}", text):
                    score += weight
        if score:
            scored.append((-score, index, product))
    scored.sort(key=lambda item: item[:2])
    return [product for _, _, product in scored]


def find_policy(topic: str) -> Policy | None:
    """The policy whose topic or keywords match `topic` ("refunds", "delivery", …)."""
    wanted = topic.strip().lower()
    every = policies()
    if wanted in every:
        return every[wanted]
    for policy in every.values():
        if wanted.rstrip("s") == policy.topic or any(k in wanted for k in policy.keywords):
            return policy
    return None


def mentioned_policies(text: str) -> list[Policy]:
    """Policies whose keywords appear in `text`, in order of first mention."""
    lowered = text.lower()
    hits = []
    for policy in policies().values():
        starts = [m.start() for k in policy.keywords if (m := re.search(rf"\b{k}", lowered))]
        if starts:
            hits.append((min(starts), policy))
    hits.sort(key=lambda hit: hit[0])
    return [policy for _, policy in hits]
