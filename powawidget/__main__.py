"""`python -m powawidget …` is the `powawidget` command."""

from powawidget.cli import main

raise SystemExit(main())
