"""Telegram Desktop exports into the archive: a streaming reader and the import service.

:func:`import_desktop_export` is ``tgpilot import PATH`` (spec telegram-cli §3.5);
:mod:`.format` is the export format's vocabulary, shared with the ``json`` export
format; :mod:`.reader` streams ``result.json`` files; :mod:`.messages` turns their
objects into domain objects.
"""

from __future__ import annotations

from tgpilot.services.desktop_import.service import (
    MEDIA_MODES,
    ChatImport,
    ImportSummary,
    MediaMode,
    ProgressFn,
    import_desktop_export,
)

__all__ = [
    "MEDIA_MODES",
    "ChatImport",
    "ImportSummary",
    "MediaMode",
    "ProgressFn",
    "import_desktop_export",
]
