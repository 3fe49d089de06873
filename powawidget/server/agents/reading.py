"""How the demo agent reads a message: which intent, about which products.

Rule-based and deterministic. Follow-ups are resolved against the session history: "it"
is the product the previous answer was about (its first named product), "those" are all
the products that answer named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypedDict

from powawidget.server import knowledge
from powawidget.server.agents.extract import (
    UNIT,
    find_conversion,
    find_expression,
    find_months,
    find_quantity,
    find_timezone,
)
from powawidget.server.knowledge import Policy, Product
from powawidget.server.tools import unit_key

SPECS = {
    "weight": "weight_kg",
    "heavy": "weight_kg",
    "weigh": "weight_kg",
    "wide": "width_cm",
    "width": "width_cm",
    "tall": "height_cm",
    "height": "height_cm",
    "high": "height_cm",
    "deep": "depth_cm",
    "depth": "depth_cm",
}


@dataclass
class Intent:
    """What the user wants, with everything the agent needs to answer it."""

    kind: str
    products: list[Product] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    quantity: int | None = None
    months: int = 1
    expression: str | None = None
    conversion: tuple[float, str, str] | None = None
    timezone: str = "UTC"
    place: str | None = None
    query: str = ""
    superlative: str | None = None
    spec: str | None = None
    from_history: bool = False
    greeting: bool = False
    message: str = ""
    catalogue_question: bool = False


class _Size(TypedDict, total=False):
    """How many seats for how long, when the message says (an `Intent`'s sizing fields)."""

    quantity: int
    months: int


def last_answer(history: list[dict]) -> str:
    """The previous assistant message, or ""."""
    for turn in reversed(history):
        if turn.get("role") == "assistant":
            return str(turn.get("content", ""))
    return ""


def _has(text: str, pattern: str) -> bool:
    """Whether the lower-cased text matches a regex."""
    return re.search(pattern, text.lower()) is not None


_GENERIC_WORDS = (
    "all any anything available buy carry catalogue catalog do does feature features find get "
    "got has have include includes like list look looking need offer option please pricing "
    "price prices search sell selling show something stock tell there us want what"
)
GENERIC = frozenset(_GENERIC_WORDS.split())
REFERS_BACK = r"\b(it|its|that one|this one|that plan|this plan|the same)\b"
# "Do you sell …", "search the catalogue for …": a question about what the company offers.
CATALOGUE_CUE = (
    r"\b(sell|sells|selling|offer|offers|have|has|carry|stock|make|makes|search|find|"
    r"look(?:ing)? for|catalogue|catalog|products?|buy|got|includes?|come with)\b"
)
REFERS_TO_SET = r"\b(those|these|them|of the (?:two|three|plans|options)|either|both)\b"


@dataclass
class Reading:
    """A message with what every rule needs: its products, the previous answer's, references."""

    text: str
    named: list[Product]
    previous: list[Product]
    refers_back: bool
    refers_to_set: bool
    quantity: int | None

    @property
    def focus(self) -> list[Product]:
        """The product(s) the message is about: named ones, else the previous answer's first."""
        return self.named or self.previous[:1]

    def has(self, pattern: str) -> bool:
        """Whether the message matches a regex (lower-cased)."""
        return _has(self.text, pattern)


def _capabilities(m: Reading) -> Intent | None:
    """ "What can you help me with?" and friends."""
    if not m.text or m.has(
        r"what (?:can|could) you (?:do|help)|how can you help|who are you|"
        r"what do you (?:do|know)|^help\W*$|what are you\b"
    ):
        return Intent("capabilities")
    return None


def _about(m: Reading) -> Intent | None:
    """ "What is Powabase?", "Is this a real company?": what this demo is."""
    if m.has(r"\bpowabase\b|\bpowawidget\b|real company|are you (?:real|an? (?:ai|bot|llm))"):
        return Intent("about")
    return None


def _support_now(m: Reading) -> Intent | None:
    """ "Is support open now?" needs the hours and the clock."""
    if m.has(r"\bsupport\b") and m.has(r"\b(open|now|available|reach|right now)\b"):
        return Intent("support_now", policies=[knowledge.policies()["support"]])
    return None


def _time(m: Reading) -> Intent | None:
    """The time or date, optionally somewhere."""
    if m.has(
        r"\bwhat(?:'s| is)? (?:the )?(?:current )?(?:time|date|day)\b|"
        r"\btime is it\b|\bcurrent (?:time|date)\b|\btoday'?s date\b|\btime in\b|"
        r"\bwhat day\b|\bdate today\b"
    ):
        zone, place = find_timezone(m.text)
        return Intent("time", timezone=zone, place=place)
    return None


def _spec_convert(m: Reading) -> Intent | None:
    """ "How heavy is the Orbit Hub in pounds?": a product measurement in another unit."""
    spec = next((key for word, key in SPECS.items() if m.has(rf"\b{word}")), None)
    target = re.search(rf"\bin\s+{UNIT}\s*\??$", m.text)
    if not (spec and target and unit_key(target.group(1)) and m.focus):
        return None
    product = m.focus[0]
    if spec not in product.specs:
        return None
    conversion = (product.specs[spec], spec.rsplit("_", 1)[1], target.group(1))
    return Intent("spec_convert", products=[product], spec=spec, conversion=conversion)


def _convert(m: Reading) -> Intent | None:
    """ "5 km to miles", "how many pounds is 2 kg"."""
    conversion = find_conversion(m.text)
    return Intent("convert", conversion=conversion) if conversion else None


def _versus(m: Reading) -> Intent | None:
    """ "Is Orbit Team cheaper than Business?", "Starter or Team?"."""
    if len(m.named) >= 2 and m.has(r"\b(cheaper|pricier|better|than|or)\b"):
        return Intent("compare", products=m.named[:2])
    return None


def _superlative(m: Reading) -> Intent | None:
    """The cheapest / most expensive of the plans, or of "those" from the previous answer."""
    if m.has(r"cheap|least expensive|lowest price|most affordable|budget"):
        kind = "cheapest"
    elif m.has(r"most expensive|priciest|highest price|premium"):
        kind = "priciest"
    else:
        return None
    if not m.has(r"\b(which|what)\b"):
        return None
    # "for 40 people over a year": compare what each would cost, not only the list prices.
    sized = _Size(quantity=m.quantity, months=find_months(m.text)) if m.quantity else _Size()
    if len(m.named) > 1:
        return Intent("superlative", products=m.named, superlative=kind, **sized)
    if m.previous and (m.refers_to_set or m.refers_back or m.has(r"\bone\b")):
        return Intent(
            "superlative", products=m.previous, superlative=kind, from_history=True, **sized
        )
    plans = [p for p in knowledge.catalogue() if p.kind == "plan"]
    return Intent("superlative", products=plans, superlative=kind, **sized)


def _price(m: Reading) -> Intent | None:
    """A quote for N seats (of "it", the previous answer's product, or the plan that fits)."""
    follow_up = m.refers_back or m.has(r"^(and|what about|how about)\b")
    pricing = m.has(r"\b(cost|costs|price|pay|how much|total|quote|charge)\b")
    if not (pricing or (m.previous and follow_up)):
        return None
    if m.quantity is None and not m.has(r"\b(year|annual|month)"):
        return None
    products = m.named[:1] or (m.previous[:1] if follow_up else [])
    months = find_months(m.text)
    return Intent("price", products=products, quantity=m.quantity or 1, months=months)


def _compare(m: Reading) -> Intent | None:
    """ "Compare Team and Business", "what's the difference between them?"."""
    if not m.has(r"\b(compare|comparison|vs\.?|versus|difference|differ)\b"):
        return None
    pool = m.named
    if len(pool) < 2:
        pool = m.previous if m.refers_to_set else m.named + m.previous
    if len(pool) < 2:
        return None
    return Intent("compare", products=pool[:2], from_history=len(m.named) < 2)


def _best_for(m: Reading) -> Intent | None:
    """ "Which one is best for small teams?": a recommendation for an audience or team size."""
    if not m.has(
        r"\b(best for|recommend|suits?|suitable|ideal for|right for|good for|fits?)\b|"
        r"\bshould (?:i|we) (?:choose|pick|get|buy|use)\b|\bwhich\b.*\bbest\b|\bbest\b.*\bfor\b"
    ):
        return None
    pattern = r"\b(?:for|fits?)\s+((?:a |an |my |our )?[a-z0-9 -]+?)\s*\??$"
    audience = re.search(pattern, m.text.lower())
    query = re.sub(r"^(my|our) ", "your ", audience.group(1)) if audience else m.text
    trial = [knowledge.policies()["trial"]]
    return Intent("best_for", query=query, policies=trial, quantity=m.quantity)


def _policy(m: Reading) -> Intent | None:
    """Refunds, billing, shipping, support, privacy, trial (several at once when asked)."""
    policies = knowledge.mentioned_policies(m.text)
    return Intent("policy", policies=policies[:3]) if policies else None


def _calculate(m: Reading) -> Intent | None:
    """Arithmetic in the message."""
    expression = find_expression(m.text)
    return Intent("calculate", expression=expression) if expression else None


def _specific_terms(m: Reading) -> list[str]:
    """Search terms that say more than "which products do you have"."""
    return [term for term in knowledge.search_terms(m.text) if term not in GENERIC]


def subject(text: str) -> str:
    """The thing a message asks about, as written: "Do you sell headphones?" → "headphones"."""
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9'-]*", text)
    kept = [
        word.lower()
        for word in words
        if any(term not in GENERIC for term in knowledge.search_terms(word))
    ]
    return " ".join(kept)


def _feature_search(m: Reading) -> Intent | None:
    """ "Which plans have SSO?", "Do you sell headphones?": a search for a specific thing.

    Specific terms that match some (not all) products, or a question about the catalogue
    whose subject matches nothing (answered honestly, not with the whole catalogue).
    """
    specific = _specific_terms(m)
    if not specific or m.named:
        return None
    hits = knowledge.search_products(" ".join(specific))
    asks_catalogue = m.has(CATALOGUE_CUE)
    if 0 < len(hits) < len(knowledge.catalogue()) or (not hits and asks_catalogue):
        query = subject(m.text) or " ".join(specific)
        return Intent("search", query=query, message=m.text, catalogue_question=asks_catalogue)
    return None


def _catalogue(m: Reading) -> Intent | None:
    """ "What products do you offer?"."""
    if m.has(r"\b(products|offer|sell|catalogue|catalog|plans|pricing|prices|options)\b"):
        return Intent("catalogue")
    return None


def _product(m: Reading) -> Intent | None:
    """A named product, or "tell me more about it"."""
    if m.named or (m.previous and (m.refers_back or m.has(r"\b(more|features|details|about)\b"))):
        return Intent("product", products=m.focus[:1], from_history=not m.named)
    return None


def _small_talk(m: Reading) -> Intent | None:
    """Thanks and greetings."""
    if m.has(r"^(thanks|thank you|cheers|great|perfect|ok|okay)\b"):
        return Intent("thanks")
    if m.has(r"^(hi|hello|hey|hiya|good (morning|afternoon|evening))\b"):
        return Intent("capabilities", greeting=True)
    return None


# Checked in this order; the first rule that recognises the message decides.
RULES = (
    _capabilities,
    _about,
    _support_now,
    _time,
    _spec_convert,
    _convert,
    _versus,
    _superlative,
    _price,
    _compare,
    _best_for,
    _policy,
    _calculate,
    _feature_search,
    _catalogue,
    _product,
    _small_talk,
)


def recognise(text: str, history: list[dict]) -> Intent | None:
    """The intent of the first rule that recognises `text`, else None."""
    reading = Reading(
        text=text,
        named=knowledge.mentioned_products(text),
        previous=knowledge.mentioned_products(last_answer(history)),
        refers_back=_has(text, REFERS_BACK),
        refers_to_set=_has(text, REFERS_TO_SET),
        quantity=find_quantity(text),
    )
    for rule in RULES:
        intent = rule(reading)
        if intent is not None:
            return intent
    return None


def read(message: str, history: list[dict]) -> Intent:
    """Decide what the user wants from the message and, for follow-ups, the history."""
    text = " ".join(message.split())
    intent = recognise(text, history)
    if intent is not None:
        return intent
    query = subject(text) or text
    return Intent("search", query=query, message=text)
