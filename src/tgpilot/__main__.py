"""``python -m tgpilot`` runs the CLI."""

from tgpilot.cli.app import main

main()
