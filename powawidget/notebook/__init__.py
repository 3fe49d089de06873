"""The notebook layer: the anywidget `ChatWidget`, its sync to the panel and static copy."""
