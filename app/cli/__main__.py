"""`python -m app.cli` runs the `jiedui` command."""

from app.cli import main

main()
