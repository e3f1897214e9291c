"""The command line: thin Typer commands that parse flags, call a service and render."""
