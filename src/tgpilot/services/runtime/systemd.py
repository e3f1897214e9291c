"""The systemd unit that keeps ``tgpilot run`` going (``tgpilot run --print-systemd-unit``).

A user or system service: ``ExecStart`` is the absolute path of the ``tgpilot`` being
run (with ``--config``/``--account`` as given), the working directory and
``TGPILOT_HOME`` are the data dir, secrets come from an environment file (``-`` makes
it optional), ``Restart=on-failure`` brings a crashed process back, and ``KillSignal``
is SIGTERM, which ``run`` answers by finishing replies in flight and exiting 0;
``TimeoutStopSec`` leaves room for that.
"""

from __future__ import annotations

import math
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

RESTART_SEC = 10
STOP_MARGIN_S = 15


@dataclass(frozen=True)
class UnitSpec:
    """What the unit needs to know."""

    executable: Path
    account: str
    data_dir: Path
    env_file: Path
    config_file: Path | None
    shutdown_timeout_s: float


def tgpilot_executable() -> Path:
    """The absolute path of the ``tgpilot`` script of this installation."""
    beside = Path(sys.executable).parent / "tgpilot"
    if beside.is_file():
        return beside.absolute()
    found = shutil.which("tgpilot")
    if found is not None:
        return Path(found).absolute()
    return Path(sys.argv[0]).absolute()


def render_unit(spec: UnitSpec) -> str:
    """The unit file's text."""
    command = [str(spec.executable)]
    if spec.config_file is not None:
        command += ["--config", str(spec.config_file.absolute())]
    command += ["--account", spec.account, "run"]
    stop = math.ceil(spec.shutdown_timeout_s) + STOP_MARGIN_S
    data_dir = spec.data_dir.absolute()
    return "\n".join(
        [
            "[Unit]",
            f"Description=tgpilot run (Telegram account {spec.account})",
            "Wants=network-online.target",
            "After=network-online.target",
            "",
            "[Service]",
            "Type=simple",
            f"ExecStart={shlex.join(command)}",
            f"WorkingDirectory={data_dir}",
            f"Environment=TGPILOT_HOME={data_dir}",
            "Environment=PYTHONUNBUFFERED=1",
            f"EnvironmentFile=-{spec.env_file.absolute()}",
            "Restart=on-failure",
            f"RestartSec={RESTART_SEC}",
            "KillSignal=SIGTERM",
            f"TimeoutStopSec={stop}",
            "",
            "[Install]",
            "WantedBy=default.target",
            "",
        ]
    )
