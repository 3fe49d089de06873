"""`agt_demo`: the Orbit Labs support assistant — a rule-based agent that acts like an LLM one.

It reads the message (reading.py, parts.py), decides which tools to call, calls them
(sometimes two at once), reads their results and writes a markdown answer (answers.py),
streaming it all in the server dialect through `ServerRun`.
"""

from __future__ import annotations

from typing import Any

from powawidget.server import knowledge
from powawidget.server.agents import answers
from powawidget.server.agents.context import answer_reply, context_reply
from powawidget.server.agents.loop import ServerRun, ToolRequest
from powawidget.server.agents.parts import Events, answer_parts, read_all
from powawidget.server.agents.reading import Intent
from powawidget.server.knowledge import Product
from powawidget.server.protocol import Dialect, RunContext, readable
from powawidget.server.tools import TOOLS, format_number


def plans_for(people: int, products: list[Product] | None = None) -> list[Product]:
    """Plans whose seat range holds `people`, cheapest for that team first."""
    fitting = [p for p in (products or knowledge.catalogue()) if p.fits(people)]
    return sorted(fitting, key=lambda p: p.price * max(people, p.min_seats or 1))


def plan_for(people: int) -> Product:
    """The cheapest plan for a team of `people` (the largest plan when none fits)."""
    found = plans_for(people)
    return found[0] if found else [p for p in knowledge.catalogue() if p.kind == "plan"][-1]


class DemoAgent:
    """The default demo agent: catalogue, policies, calculator, time and unit conversion."""

    id = "agt_demo"
    name = "Powabase demo assistant"
    model = "powabase-demo-1"
    dialect: Dialect = "server"
    uses_tools = True
    description = (
        "Support assistant for Orbit Labs, a fictional software company: products, pricing, "
        "policies, price maths, time and unit conversion. Runs locally, no account needed."
    )
    system_prompt = (
        "You are the support assistant of Orbit Labs. Answer questions about its products "
        "and policies using search_catalogue and get_policy, never from memory. Use the "
        "calculator for any arithmetic, current_time for dates and times, and convert_units "
        "for units. Be concise, friendly and format answers in markdown."
    )

    async def run(self, ctx: RunContext, message: str) -> Events:
        """Answer one message, using the session history for follow-ups (and the client's
        context or response_format when it sent one: `agents.context`)."""
        run = ServerRun(ctx, message, self.system_prompt, TOOLS)
        yield run.start()
        reply = context_reply(ctx.options, honours_format=True)
        if reply is not None:
            async for event in answer_reply(run, reply):
                yield event
            return
        async for event in self.respond(run, message):
            yield event

    def respond(self, run: ServerRun, message: str) -> Events:
        """The run's events after `start`: decide, call tools, answer."""
        intents = read_all(readable(message), run.ctx.history)
        if len(intents) > 1:
            return answer_parts(run, intents, self._handler)
        return self._handler(intents[0])(run, intents[0])

    def _handler(self, intent: Intent) -> Any:
        """The method that answers this kind of intent."""
        return getattr(self, f"_{intent.kind}")

    async def _capabilities(self, run: ServerRun, intent: Intent) -> Events:
        """No tools needed: say what the assistant can do."""
        thinking = "The user wants to know what I can do. I'll list my areas and some examples."
        text = answers.capabilities(greeting=intent.greeting)
        async for event in run.answer(text, thinking=thinking):
            yield event

    async def _about(self, run: ServerRun, intent: Intent) -> Events:
        """What this demo is, honestly: no tools needed."""
        thinking = "They're asking what this is. I'll explain the demo honestly."
        async for event in run.answer(answers.about(), thinking=thinking):
            yield event

    async def _thanks(self, run: ServerRun, intent: Intent) -> Events:
        """A thank-you needs no tools, just a short reply."""
        text = "You're welcome! Is there anything else I can help you with?"
        async for event in run.answer(text, thinking="They're saying thanks. A short reply."):
            yield event

    async def _catalogue(self, run: ServerRun, intent: Intent) -> Events:
        """List every product from the catalogue."""
        thinking = "They want the product range. I'll fetch the full catalogue and show a table."
        async for event in run.call_tools(
            [ToolRequest("search_catalogue", {"query": ""})], thinking=thinking
        ):
            yield event
        products = answers.products_from(run.last[0].value or {})
        async for event in run.answer(answers.catalogue(products)):
            yield event

    async def _policy(self, run: ServerRun, intent: Intent) -> Events:
        """Read one or more policies (at once) and summarise them."""
        topics = [policy.topic for policy in intent.policies]
        thinking = (
            f"This is about our {' and '.join(topics)} policy. I'll read the policy text with "
            "get_policy rather than answer from memory."
        )
        requests = [ToolRequest("get_policy", {"topic": topic}) for topic in topics]
        async for event in run.call_tools(requests, thinking=thinking):
            yield event
        found = [record.value for record in run.last if record.ok]
        async for event in run.answer(answers.policies(found)):
            yield event

    async def _best_for(self, run: ServerRun, intent: Intent) -> Events:
        """Search the catalogue for an audience and check the trial terms at the same time."""
        thinking = (
            f"They want a recommendation for {intent.query}. I'll search the catalogue for "
            "that audience and, in parallel, check the free-trial policy so they can try it."
        )
        people = intent.quantity
        query = "" if people else intent.query  # a team size: rank every plan by fit
        requests = [
            ToolRequest("search_catalogue", {"query": query}),
            ToolRequest("get_policy", {"topic": "trial"}),
        ]
        async for event in run.call_tools(requests, thinking=thinking):
            yield event
        search, trial = run.last
        products = answers.products_from(search.value or {})
        if people:
            products = plans_for(people, products)
        text = answers.recommendation(intent.query, products, trial.value if trial.ok else None)
        async for event in run.answer(text):
            yield event

    async def _superlative(self, run: ServerRun, intent: Intent) -> Events:
        """Look up a set of products and pick the cheapest (or priciest)."""
        names = [p.name for p in intent.products]
        where = "the products from my last answer" if intent.from_history else "our plans"
        word = "cheapest" if intent.superlative == "cheapest" else "most expensive"
        thinking = f"They want the {word} of {where}. I'll look up current prices and compare."
        request = ToolRequest("search_catalogue", {"query": "", "names": names})
        async for event in run.call_tools([request], thinking=thinking):
            yield event
        products = answers.products_from(run.last[0].value or {})
        if intent.quantity and intent.superlative == "cheapest":
            async for event in self._cost_comparison(run, intent, products):
                yield event
            return
        text = answers.superlative(intent.superlative or "cheapest", products, intent.from_history)
        async for event in run.answer(text):
            yield event

    async def _cost_comparison(
        self, run: ServerRun, intent: Intent, products: list[Product]
    ) -> Events:
        """Which of `products` costs less for N people over M months, and by how much:
        the totals (seats × price × months) at once, then the difference, by calculator."""
        people, months = intent.quantity or 1, max(1, intent.months)
        fitting = [p for p in products if p.billing != "one-time" and p.fits(people)]
        skipped = [p.name for p in products if p not in fitting]
        left_out = (
            f"(I left out {', '.join(skipped)}: not a monthly plan for {people} people.)"
            if skipped
            else ""
        )
        if len(fitting) < 2:
            text = answers.superlative("cheapest", products, intent.from_history)
            async for event in run.answer(text + (f"\n\n{left_out}" if left_out else "")):
                yield event
            return
        seats = [max(people, p.min_seats or 1) if p.per_seat else 1 for p in fitting]
        requests = [
            ToolRequest("calculator", {"expression": f"{n} * {format_number(p.price)} * {months}"})
            for p, n in zip(fitting, seats, strict=True)
        ]
        async for event in run.call_tools(requests):
            yield event
        costs = sorted(
            ((p, n, float(r.value)) for p, n, r in zip(fitting, seats, run.last, strict=True)),
            key=lambda cost: cost[2],
        )
        low, high = costs[0][2], costs[1][2]
        difference = f"{format_number(high)} - {format_number(low)}"
        async for event in run.call_tools([ToolRequest("calculator", {"expression": difference})]):
            yield event
        gap = float(run.last[0].value)
        text = answers.cost_comparison(people, months, costs, gap, left_out)
        async for event in run.answer(text):
            yield event

    async def _price(self, run: ServerRun, intent: Intent) -> Events:
        """Look up the product's price, then work out the totals with the calculator."""
        quantity = max(1, intent.quantity or 1)
        note = ""
        product = intent.products[0] if intent.products else plan_for(quantity)
        if not intent.products:
            note = f"For {quantity} people, **{product.name}** is the plan that fits."
        thinking = (
            f"They want a price for {quantity} of {product.name}. I'll check the current price "
            "in the catalogue, then use the calculator for the totals."
        )
        request = ToolRequest("search_catalogue", {"query": "", "names": [product.name]})
        async for event in run.call_tools([request], thinking=thinking):
            yield event
        product = (answers.products_from(run.last[0].value or {}) or [product])[0]
        if (
            product.kind == "plan"
            and product.max_seats is not None
            and quantity > product.max_seats
        ):
            bigger = plan_for(quantity)
            note = (
                f"Note: {product.name} allows at most {product.max_seats} seat"
                f"{'s' if product.max_seats != 1 else ''}; for {quantity} people "
                f"**{bigger.name}** ({bigger.price_label}) fits."
            )
            product = bigger
        billed = quantity
        if product.per_seat and product.min_seats and quantity < product.min_seats:
            billed = product.min_seats
            note = (
                f"{product.name} starts at {product.min_seats} seats, "
                f"so you'd be billed for {billed}."
            )
        expressions = [f"{billed} * {format_number(product.price)}"]
        if intent.months > 1 and product.billing != "one-time":
            expressions.append(f"{billed} * {format_number(product.price)} * {intent.months}")
        requests = [ToolRequest("calculator", {"expression": e}) for e in expressions]
        async for event in run.call_tools(requests):
            yield event
        totals = [float(record.value) for record in run.last]
        text = answers.price(product, billed, intent.months, totals, note)
        async for event in run.answer(text):
            yield event

    async def _compare(self, run: ServerRun, intent: Intent) -> Events:
        """Look up two products at once and compare them side by side."""
        first, second = intent.products[:2]
        thinking = f"A comparison of {first.name} and {second.name}: I'll look both up at once."
        requests = [
            ToolRequest("search_catalogue", {"query": "", "names": [first.name]}),
            ToolRequest("search_catalogue", {"query": "", "names": [second.name]}),
        ]
        async for event in run.call_tools(requests, thinking=thinking):
            yield event
        found = [answers.products_from(record.value or {}) for record in run.last]
        text = answers.comparison(found[0][0], found[1][0])
        async for event in run.answer(text):
            yield event

    async def _product(self, run: ServerRun, intent: Intent) -> Events:
        """Look up one product and describe it."""
        product = intent.products[0]
        thinking = f"They're asking about {product.name}. I'll pull its catalogue entry."
        request = ToolRequest("search_catalogue", {"query": "", "names": [product.name]})
        async for event in run.call_tools([request], thinking=thinking):
            yield event
        found = answers.products_from(run.last[0].value or {})
        async for event in run.answer(answers.product_details(found[0])):
            yield event

    async def _search(self, run: ServerRun, intent: Intent) -> Events:
        """Search the catalogue for the subject; nothing found: say so, honestly.

        A catalogue question ("Do you sell headphones?") that matches nothing gets a second
        look at the whole range, so the answer can say what we offer instead. Anything else
        that matches nothing gets what the assistant can help with.
        """
        if intent.catalogue_question:
            thinking = (
                f"They're asking whether we offer {intent.query}. I'll search the catalogue "
                "for it; if nothing matches I'll say so and show what we do offer."
            )
        else:
            thinking = (
                "I'm not sure what this is about. I'll search the catalogue in case it matches "
                "a product or feature; if not, I'll explain what I can help with."
            )
        request = ToolRequest("search_catalogue", {"query": intent.query})
        async for event in run.call_tools([request], thinking=thinking):
            yield event
        products = answers.products_from(run.last[0].value or {})
        if products or not intent.catalogue_question:
            text = answers.search_results(intent.query, intent.message, products)
            async for event in run.answer(text):
                yield event
            return
        request = ToolRequest("search_catalogue", {"query": ""})
        async for event in run.call_tools([request]):
            yield event
        offered = answers.products_from(run.last[0].value or {})
        async for event in run.answer(answers.not_offered(intent.query, offered)):
            yield event

    async def _time(self, run: ServerRun, intent: Intent) -> Events:
        """Ask the clock."""
        thinking = f"They want the current time or date in {intent.timezone}. I'll ask the clock."
        request = ToolRequest("current_time", {"timezone": intent.timezone})
        async for event in run.call_tools([request], thinking=thinking):
            yield event
        record = run.last[0]
        text = (
            answers.current_time(record.value, intent.place)
            if record.ok
            else f"I couldn't read the clock: {record.error}."
        )
        async for event in run.answer(text):
            yield event

    async def _support_now(self, run: ServerRun, intent: Intent) -> Events:
        """Read the support hours and the time in Berlin at once, then say if support is open."""
        thinking = (
            "Is support open now? I need the support hours and the current time in Berlin; "
            "I'll fetch both at once."
        )
        requests = [
            ToolRequest("get_policy", {"topic": "support"}),
            ToolRequest("current_time", {"timezone": "Europe/Berlin"}),
        ]
        async for event in run.call_tools(requests, thinking=thinking):
            yield event
        policy, now = run.last
        async for event in run.answer(answers.support_now(policy.value, now.value)):
            yield event

    async def _convert(self, run: ServerRun, intent: Intent) -> Events:
        """Convert units with the conversion tool."""
        assert intent.conversion is not None
        value, source, target = intent.conversion
        thinking = f"A unit conversion from {source} to {target}; convert_units does it exactly."
        arguments = {"value": value, "from_unit": source, "to_unit": target}
        async for event in run.call_tools(
            [ToolRequest("convert_units", arguments)], thinking=thinking
        ):
            yield event
        record = run.last[0]
        text = (
            answers.conversion(record.value)
            if record.ok
            else f"I couldn't convert that: {record.error}."
        )
        async for event in run.answer(text):
            yield event

    async def _spec_convert(self, run: ServerRun, intent: Intent) -> Events:
        """Look up a product measurement, then convert it (two steps)."""
        assert intent.conversion is not None and intent.spec is not None
        product = intent.products[0]
        thinking = f"They want {product.name}'s {intent.spec.split('_')[0]} in another unit."
        request = ToolRequest("search_catalogue", {"query": "", "names": [product.name]})
        async for event in run.call_tools([request], thinking=thinking):
            yield event
        found = (run.last[0].value or {}).get("products", [{}])[0]
        measured = found.get("specs", {}).get(intent.spec, intent.conversion[0])
        _, source, target = intent.conversion
        arguments = {"value": measured, "from_unit": source, "to_unit": target}
        async for event in run.call_tools([ToolRequest("convert_units", arguments)]):
            yield event
        record = run.last[0]
        text = (
            answers.spec_conversion(product, intent.spec, record.value)
            if record.ok
            else f"I couldn't convert that: {record.error}."
        )
        async for event in run.answer(text):
            yield event

    async def _calculate(self, run: ServerRun, intent: Intent) -> Events:
        """Evaluate arithmetic with the calculator."""
        expression = intent.expression or ""
        thinking = "Some arithmetic. I'll use the calculator rather than do it in my head."
        request = ToolRequest("calculator", {"expression": expression})
        async for event in run.call_tools([request], thinking=thinking):
            yield event
        record = run.last[0]
        async for event in run.answer(answers.calculation(expression, record.result, record.ok)):
            yield event
