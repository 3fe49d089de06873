"""The model: canonical events folded into turns, the one owner of a run's state.

`turns` (the shapes), `folding` (one handler per event), `conversation` (the fold),
`status` (a run's status, decided once). Pure: no I/O, no threads. See docs/architecture.md.
"""
