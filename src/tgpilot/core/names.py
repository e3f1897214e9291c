"""Safe file and key names from titles (spec telegram-cli §3.2 "Safe filenames").

One function for default export names, media files, report names and YAML alias
keys: separators and ``..`` never survive.
"""

from __future__ import annotations

import re
import unicodedata

_UNSAFE_RUN = re.compile(r"[^\w-]+|_+")


def safe_name(text: str, length: int = 50, *, fallback: str = "chat") -> str:
    """NFC; keep Unicode letters, digits, ``-`` and ``_``; every run of anything else
    becomes one ``_``; strip leading/trailing ``_`` and ``-``; cut to ``length`` code
    points; empty → ``fallback``."""
    normal = unicodedata.normalize("NFC", text)
    kept = _UNSAFE_RUN.sub("_", normal)
    kept = "".join(ch if (ch.isalnum() or ch in "-_") else "_" for ch in kept)
    kept = re.sub(r"_+", "_", kept).strip("_-")
    kept = kept[:length].strip("_-")
    return kept or fallback
