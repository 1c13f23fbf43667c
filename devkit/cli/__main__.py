"""`python -m devkit.cli`: the same as `switchboard`."""

from devkit.cli import main

main()
