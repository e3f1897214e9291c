"""Getting a chat's history out: formats, media selection, and the export run itself."""
