"""Option declarations shared by several commands."""

from __future__ import annotations

from typing import Annotated

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine output (JSON) on stdout.")]
YesFlag = Annotated[
    bool, typer.Option("--yes", "-y", help="Apply the plan instead of printing it.")
]
