"""``python -m kcc``: the same command line as the ``kcc`` console script."""

from kcc.cli import main

main()
