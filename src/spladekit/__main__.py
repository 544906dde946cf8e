"""``python -m spladekit``: the same command line as the ``spladekit`` script."""

from spladekit.cli import main

raise SystemExit(main())
