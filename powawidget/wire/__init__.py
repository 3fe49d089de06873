"""The wire: HTTP to the agent, SSE bytes to events, both dialects to one canonical event.

`client` (one method per endpoint), `transport` (requests, retries before the first byte,
error answers), `retry` (the policy), `stopping` (stop before the stream), `sse` (the
WHATWG decoder), `events` (the normaliser), `stream` (reading one run), `errors` (typed
failures), `config` (URL and key from arguments or the environment). See docs/protocol.md.
"""
