"""The `powawidget` command: `chat`, `serve` and `demo`."""
