"""The demo agent's answers: markdown written from what its tools returned.

Every function takes tool results (or knowledge objects built from them) and returns the
final markdown. The product an answer is about is always named first, in bold, so the next
turn's "it" resolves to it (see reading.py).
"""

from __future__ import annotations

import re
from typing import Any

from powawidget.server import knowledge
from powawidget.server.knowledge import Product
from powawidget.server.tools import format_number, unit_label

EXAMPLES = (
    "What products do you offer?",
    "Which one is best for small teams?",
    "How much would 5 seats of Orbit Team cost per year?",
    "What is the refund policy?",
    "Is support open right now?",
)


def money(amount: float) -> str:
    """Dollars with thousands separators and cents only when needed: $1,047 / $4.50."""
    if float(amount).is_integer():
        return f"${int(amount):,}"
    return f"${amount:,.2f}"


def quoted(text: str, limit: int = 80) -> str:
    """The user's words, safe to put inside markdown emphasis: escaped and shortened."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~])", r"\\\1", text)


def products_from(result: dict[str, Any]) -> list[Product]:
    """The catalogue products a search_catalogue result names, in its order."""
    found = (knowledge.product_named(item["id"]) for item in result.get("products", []))
    return [product for product in found if product is not None]


def capabilities(*, greeting: bool = False, off_topic: bool = False) -> str:
    """What the assistant can do, with questions to try; `off_topic`: the question was about
    something else, so it says so first (without repeating the question back)."""
    name = knowledge.company().name
    if off_topic:
        opening = (
            f"Sorry, I can't help with that one: I'm the {name} demo assistant, so I only "
            "know about our products, prices and policies. Here is what I can help with:"
        )
    elif greeting:
        opening = f"Hello! I'm the **{name}** assistant. Here is what I can help with:"
    else:
        opening = f"I'm the **{name}** assistant (a demo agent running on your machine). I can:"
    lines = [
        opening,
        "",
        "- **Products and pricing** — what we sell, what each plan includes, which one fits",
        "- **Policies** — refunds, billing, shipping, support hours, privacy, the free trial",
        "- **Quick maths** — seat costs and totals, worked out with a calculator",
        "- **Time and units** — the time in any timezone, and unit conversions",
        "",
        "Try asking:",
        "",
        *(f"- *{example}*" for example in EXAMPLES),
    ]
    return "\n".join(lines)


def about() -> str:
    """What this demo is: a local stand-in for a Powabase agent, for a fictional company."""
    company = knowledge.company().name
    return "\n".join(
        [
            "**Powabase** is a platform for building and running AI agents; this chat panel "
            "(**powawidget**) talks to Powabase agents from a Jupyter notebook.",
            "",
            f"I'm a *demo* agent served by powawidget's built-in local server, so you can try "
            f"it without an account. I act as the support assistant of **{company}**, a "
            "fictional company, and answer with real tools over a small bundled catalogue — "
            "no large language model, no network.",
            "",
            "To chat with your own agents, set `POWABASE_BASE_URL` and `POWABASE_API_KEY`.",
        ]
    )


def catalogue_table(products: list[Product]) -> str:
    """The product table (name, price, seats, best for)."""
    rows = ["| Product | Price | Seats | Best for |", "|---|---|---|---|"]
    for p in products:
        rows.append(f"| **{p.name}** | {p.price_label} | {p.seats_label} | {p.best_for} |")
    return "\n".join(rows)


def catalogue(products: list[Product]) -> str:
    """The whole catalogue as a table, plus what to ask next."""
    plans = sum(p.kind == "plan" for p in products)
    company = knowledge.company().name
    return (
        f"We offer **{len(products)} products** at {company}: {plans} plans, an analytics "
        "add-on and a meeting-room device.\n\n"
        f"{catalogue_table(products)}\n\n"
        "Prices are in USD, excluding tax. Ask me to compare any two, or which one fits "
        "your team."
    )


def policy_section(policy: dict[str, Any]) -> str:
    """One policy as a heading, its summary and its points."""
    points = "\n".join(f"- {point}" for point in policy["points"])
    return f"### {policy['title']}\n\n{policy['summary']}\n\n{points}"


def policies(found: list[dict[str, Any]]) -> str:
    """One or more policies, then an offer to help further."""
    body = "\n\n".join(policy_section(policy) for policy in found)
    return f"{body}\n\nIs there anything else I can check for you?"


def recommendation(query: str, products: list[Product], trial: dict[str, Any] | None) -> str:
    """The best product for an audience, alternatives, and the trial if it applies."""
    if not products:
        return capabilities(off_topic=True)
    best, others = products[0], products[1:3]
    details = ", ".join(filter(None, (best.price_label, best.seats_phrase)))
    lines = [
        f"For {query}, I'd recommend **{best.name}** ({details}). It's built for {best.best_for}:",
        "",
        *(f"- {feature}" for feature in best.features),
    ]
    if others:
        lines += ["", "**Also worth a look:**", ""]
        lines += [f"- **{p.name}** — {p.price_label}; best for {p.best_for}" for p in others]
    if trial and best.name in " ".join(trial.get("points", [])):
        lines += ["", f"**Free trial:** {trial['summary']}"]
    return "\n".join(lines)


def superlative(kind: str, products: list[Product], from_history: bool) -> str:
    """The cheapest (or priciest) of a set, with the set sorted by price."""
    monthly = [p for p in products if p.billing != "one-time"]
    ranked = sorted(monthly, key=lambda p: p.price, reverse=kind == "priciest")
    if not ranked:
        return "None of those has a monthly price to compare; the Orbit Hub is a one-time purchase."
    top = ranked[0]
    word = "cheapest" if kind == "cheapest" else "most expensive"
    scope = "Of those, the" if from_history else "The"
    lines = [
        f"{scope} {word} is **{top.name}** at **{top.price_label}** ({top.seats_label} seats)."
    ]
    if top.per_seat and top.min_seats and top.min_seats > 1:
        lines[0] += (
            f" It starts at {top.min_seats} seats, "
            f"so at least {money(top.price * top.min_seats)} a month."
        )
    lines += ["", "| Product | Price | Seats |", "|---|---|---|"]
    lines += [f"| {p.name} | {p.price_label} | {p.seats_label} |" for p in ranked]
    skipped = [p.name for p in products if p not in monthly]
    if skipped:
        lines += ["", f"({', '.join(skipped)} is a one-time purchase, so I left it out.)"]
    return "\n".join(lines)


def cost_comparison(
    people: int, months: int, costs: list[tuple[Product, int, float]], gap: float, left_out: str
) -> str:
    """Which of a set costs less for `people` over `months`, and by how much: the working
    shown as the calculator did it (`costs`: product, seats billed, total; cheapest first)."""
    (best, _, low), (runner, _, high) = costs[0], costs[1]
    period = "a year" if months == 12 else (f"{months} months" if months > 1 else "a month")
    lines = [
        f"For {people} people over {period}, **{best.name}** is cheaper: {money(low)} against "
        f"{money(high)} for {runner.name}, so you'd save **{money(gap)}**.",
        "",
        "```text",
    ]
    for product, seats, total in costs:
        per = product.price_label if not product.per_seat else f"{money(product.price)} per seat"
        per += " / month" if product.per_seat else ""
        lines.append(f"{product.name}: {seats} × {per} × {months} months = {money(total)}")
    lines += [f"Difference: {money(high)} − {money(low)} = {money(gap)}", "```"]
    if left_out:
        lines += ["", left_out]
    lines += ["", "Prices are in USD and exclude VAT / sales tax."]
    return "\n".join(lines)


def price(product: Product, quantity: int, months: int, totals: list[float], note: str) -> str:
    """A price quote: the headline total, the working in a code block, and any caveat."""
    unit = "seat" if product.per_seat else "unit"
    count = f"{quantity} {unit}{'s' if quantity != 1 else ''}"
    if product.billing == "one-time":
        headline = f"**{count} of {product.name} cost {money(totals[0])}** (one-time)."
        working = f"{quantity} × {money(product.price)} = {money(totals[0])}"
    else:
        per = "per seat / month" if product.per_seat else "per month"
        headline = f"**{count} of {product.name} cost {money(totals[0])} a month**"
        working = f"{quantity} × {money(product.price)} {per} = {money(totals[0])} / month"
        if months > 1 and len(totals) > 1:
            period = "a year" if months == 12 else f"{months} months"
            headline += f", or {money(totals[1])} for {period}"
            working += f"\n{money(totals[0])} × {months} months = {money(totals[1])}"
        headline += "."
    parts = [headline, "", "```text", working, "```"]
    if note:
        parts += ["", note]
    parts += ["", "Prices are in USD and exclude VAT / sales tax."]
    return "\n".join(parts)


def comparison(first: Product, second: Product) -> str:
    """Two products side by side in a table, with a one-line verdict."""

    def row(label: str, a: str, b: str) -> str:
        return f"| {label} | {a} | {b} |"

    lines = [
        f"Here's **{first.name}** next to **{second.name}**:",
        "",
        row("", f"**{first.name}**", f"**{second.name}**"),
        "|---|---|---|",
        row("Price", first.price_label, second.price_label),
        row("Seats", first.seats_label, second.seats_label),
        row("Best for", first.best_for, second.best_for),
        row("Highlights", "; ".join(first.features[:3]), "; ".join(second.features[:3])),
        "",
    ]
    cheaper, dearer = sorted((first, second), key=lambda p: p.price)
    extra = dearer.features[1 if dearer.features[0].startswith("Everything") else 0]
    if extra[1:2].islower():
        extra = extra[0].lower() + extra[1:]
    lines.append(
        f"In short: **{cheaper.name}** is the cheaper one; **{dearer.name}** adds {extra} and more."
    )
    return "\n".join(lines)


def product_details(product: Product) -> str:
    """One product: price, seats, who it is for, features, specs."""
    lines = [
        f"**{product.name}** — {product.summary}",
        "",
        f"- **Price:** {product.price_label}",
        f"- **Seats:** {product.seats_label}",
        f"- **Best for:** {product.best_for}",
        "",
        "**Features**",
        "",
        *(f"- {feature}" for feature in product.features),
    ]
    if product.specs:
        size = " × ".join(
            format_number(product.specs[k]) for k in ("width_cm", "height_cm", "depth_cm")
        )
        weight = format_number(product.specs["weight_kg"])
        lines += ["", f"Size {size} cm, weight {weight} kg."]
    return "\n".join(lines)


def search_results(query: str, message: str, products: list[Product]) -> str:
    """Products a free-text search found, or the capabilities when nothing matched."""
    if not products or len(products) == len(knowledge.catalogue()):
        return capabilities(off_topic=True)
    lines = [f"These products match *{quoted(query)}*:", ""]
    lines += [f"- **{p.name}** ({p.price_label}) — {p.summary}" for p in products[:3]]
    lines += ["", "Want details on one of them, or a price for your team size?"]
    return "\n".join(lines)


def not_offered(query: str, products: list[Product]) -> str:
    """No product matches what was asked for: say so, then show what we do offer."""
    company = knowledge.company()
    plans = sum(p.kind == "plan" for p in products)
    others = [p.name for p in products if p.kind != "plan"]
    extra = f", plus {' and '.join(others)}" if others else ""
    return (
        f"Sorry — we don't offer *{quoted(query)}*: nothing in our catalogue matches. "
        f"{company.name} makes {company.tagline.lower()}: {plans} plans{extra}.\n\n"
        "Here is what we do offer:\n\n"
        f"{catalogue_table(products)}\n\n"
        "Ask me about any of these, or which one fits your team."
    )


def current_time(now: dict[str, Any], place: str | None) -> str:
    """The time and date, in words."""
    where = f" in {place}" if place and place != now["timezone"] else ""
    zone = now["timezone"]
    offset = "" if zone == "UTC" else f", UTC{now['utc_offset']}"
    return f"It's **{now['time']}** on **{now['date']}**{where} ({zone}{offset})."


def support_now(policy: dict[str, Any], now: dict[str, Any]) -> str:
    """Whether support is open right now, from the support hours and the current time."""
    hours = policy["hours"]
    open_now = now["weekday"] in hours["days"] and hours["open"] <= now["time"] < hours["close"]
    state = "**open right now**" if open_now else "**closed right now**"
    lines = [
        f"Support is {state}: it's {now['time']} on {now['date']} in Berlin, and we answer "
        f"chat and email Monday–Friday, {hours['open']}–{hours['close']} CET.",
    ]
    if not open_now:
        lines.append("")
        lines.append(
            f"Leave a message at {knowledge.company().support_email} and we'll reply when "
            "we open; Enterprise customers have 24/7 phone support for outages."
        )
    return "\n".join(lines)


def conversion(result: dict[str, Any]) -> str:
    """A unit conversion, with the rule of thumb behind it."""
    value = format_number(result["value"])
    converted = format_number(round(result["result"], 4))
    source, target = unit_label(result["from"]), unit_label(result["to"])
    return f"**{value} {source} = {converted} {target}** ({result['category']})."


def spec_conversion(product: Product, spec: str, result: dict[str, Any]) -> str:
    """A product measurement converted to the unit asked for."""
    label = {"weight_kg": "weighs", "width_cm": "is", "height_cm": "is", "depth_cm": "is"}[spec]
    dimension = {"weight_kg": "", "width_cm": " wide", "height_cm": " tall", "depth_cm": " deep"}
    value = format_number(round(result["result"], 2))
    return (
        f"**{product.name}** {label} **{value} {unit_label(result['to'])}**{dimension[spec]} "
        f"({format_number(result['value'])} {unit_label(result['from'])})."
    )


def calculation(expression: str, result: str, ok: bool) -> str:
    """An arithmetic result, or why it could not be computed."""
    if not ok:
        return f"I couldn't compute `{expression}`: {result.removeprefix('Error: ')}."
    return f"`{expression}` = **{result}**"
