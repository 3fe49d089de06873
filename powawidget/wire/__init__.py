"""The wire: HTTP to the agent, SSE bytes to events, both dialects to one canonical event.

`client` (requests, retries before the first byte, stop), `sse` (the WHATWG decoder),
`events` (the normaliser), `stream` (reading one run), `errors` (typed failures),
`config` (URL and key from arguments or the environment). See docs/protocol.md.
"""
