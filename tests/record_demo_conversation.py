"""Record the conversation that notebooks/03_teaching_live_demo.ipynb replays offline.

Run it again when the event schema or the demo agent changes:

    python tests/record_demo_conversation.py            # writes notebooks/data/…jsonl

It starts a local agent server with a realistic token pace, asks the questions below in one
session through a ChatWidget (the same path a notebook user takes) and saves the events.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from powawidget import ChatWidget, Transcript
from powawidget.server import start_local_server

RECORDING = Path(__file__).resolve().parent.parent / "notebooks" / "data" / "orbit_support.jsonl"
AGENT_ID = "agt_demo"
QUESTIONS = (
    "Which plan is cheapest?",
    "And which of those is the most expensive?",
    "How much for 12 people for 6 months?",
)
TOKEN_DELAY = 0.02


def record(path: Path = RECORDING, delay: float = TOKEN_DELAY) -> Transcript:
    """Ask QUESTIONS in one session of a fresh local server; save and return the transcript."""
    server = start_local_server(delay=delay)
    try:
        chat = ChatWidget(agent_id=AGENT_ID, base_url=server.base_url, api_key=server.api_key)
        for question in QUESTIONS:
            chat.ask(question, timeout=120)
        path.parent.mkdir(parents=True, exist_ok=True)
        chat.save(path)
        chat.close()
        return Transcript.load(path)
    finally:
        server.stop()


def main() -> None:
    """Command line: record to the notebooks' data folder (or --out)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RECORDING, help="where to write the JSONL")
    parser.add_argument("--delay", type=float, default=TOKEN_DELAY, help="seconds per token")
    args = parser.parse_args()
    transcript = record(args.out, args.delay)
    print(f"wrote {args.out}: {len(transcript.events)} events, {len(transcript.runs)} turns")


if __name__ == "__main__":
    main()
