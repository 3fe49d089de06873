"""`python -m powawidget …` is the `powawidget` command."""

from powawidget.cli.main import main

raise SystemExit(main())
