"""Outputs: DataFrame-ready transcript views, saved files, Markdown and HTML handouts."""
