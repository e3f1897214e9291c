"""Configuration: the only module of tgpilot that reads environment variables.

Everything else receives its settings from here (DESIGN rule 2 and 7, spec
telegram-cli §1.1–§1.2). :func:`load_config` gives a valid :class:`Config` or raises
one :class:`ConfigError` listing every problem; :func:`inspect_config` never raises
and says, field by field, what the value is, where it came from and what is wrong
(``tgpilot config check``).

Rules, the same for every field:

- **Precedence**: flag > process env > ``.env`` > ``config.yml`` > default. Layers
  are compared first: a ``TELEGRAM_API_ID`` in the process env beats a
  ``TGPILOT_TELEGRAM__API_ID`` in ``.env``; within one layer the ``TGPILOT_`` form
  beats its alias.
- **Env names**: ``TGPILOT_`` + the upper-case dotted path with ``__`` between levels
  (``TGPILOT_TELEGRAM__API_ID``, ``TGPILOT_TELEGRAM__SERVER__DC_ID``). Well-known
  aliases live in one table, :data:`ENV_ALIASES`. Only the exact upper-case names
  are read. A ``TGPILOT_<SECTION>__…`` name of a known section that matches no field
  is a problem (a typo never passes silently); other ``TGPILOT_*`` names
  (``TGPILOT_HOME``, ``TGPILOT_CONFIG``, test settings) are not fields.
- **Maps from env**: ``TGPILOT_CHATS__<ALIAS>__<FIELD>`` (e.g.
  ``TGPILOT_CHATS__TEAM__ID=-1001234567890``) and
  ``TGPILOT_CLEAN__LINK_PATTERNS__<NAME>``; the alias or name is lower-cased. A map
  entry (one alias, one pattern) is replaced as a whole by a higher layer, never
  merged field by field.
- **Lists from env**: every list field (and every map of lists, per entry) takes a
  JSON array (``TGPILOT_ME__NAMES='["Ann","Анна"]'``) or, when its items are plain
  values, a comma-separated string (``TGPILOT_ME__NAMES=Ann,Анна``: items stripped,
  empty ones dropped; an item holding a comma needs the JSON form). Lists of mappings
  (``run.handlers``, ``like.auto_emoji``) take JSON only.
- **Values**: env values are strings converted by the field's type; an empty string,
  from any source, is the problem ``empty value`` (never ``""`` or 0). A YAML ``null``
  for a section means an empty section; for a field it is ``null`` (fine for optional
  fields, an error for the others). Booleans are not numbers.
- **Placeholders**: ``${NAME}`` inside a YAML string is replaced from the process env,
  then ``.env``; an unset ``NAME`` is a problem naming it.
- **Secrets** (``SecretStr`` fields, and the password of a URL field marked
  ``url-password`` such as ``store.url``) come only from the environment or ``.env``:
  written in ``config.yml`` they are a problem naming the variable to set. A secret
  written as exactly ``${NAME}`` (the URL's password for URL fields) is allowed:
  the value then comes from the environment. Secrets never appear in messages.
- **Paths**: ``~`` is expanded; a relative path written in ``config.yml`` is resolved
  against the config file's folder, one from a flag or env against the working
  directory at use time; the default ``paths.exports`` is ``./exports``.
- **Files**: ``.env`` is ``--env-file``, else ``./.env``, else ``$TGPILOT_HOME/.env``
  (read with python-dotenv without interpolation, ``os.environ`` is never changed).
  ``config.yml`` is ``--config``, else ``TGPILOT_CONFIG``, else ``./config.yml``, else
  ``$XDG_CONFIG_HOME/tgpilot/config.yml``. ``TGPILOT_HOME`` and ``TGPILOT_CONFIG`` may
  also be set in ``.env``. CI variables (``CI``, ``GITHUB_ACTIONS``) change nothing.

Adding a field: add it to a section model below (or a new section to
:class:`Settings`); env names, rows of ``config check`` and secret handling follow
from the type. A new well-known env name goes into :data:`ENV_ALIASES`.
"""

from __future__ import annotations

from tgpilot.core.config.loader import (
    ConfigInspection,
    ConfigOptions,
    FieldRow,
    inspect_config,
    load_config,
)
from tgpilot.core.config.settings import (
    ENV_ALIASES,
    ENV_PREFIX,
    ChatAlias,
    CleanSettings,
    Config,
    FieldStatus,
    FloodSettings,
    LimitsSettings,
    OutputSettings,
    PathsSettings,
    SessionSettings,
    Settings,
    Source,
    StoreSettings,
    TelegramServer,
    TelegramSettings,
    env_name,
    env_names,
    mask_url,
)

__all__ = [
    "ENV_ALIASES",
    "ENV_PREFIX",
    "ChatAlias",
    "CleanSettings",
    "Config",
    "ConfigInspection",
    "ConfigOptions",
    "FieldRow",
    "FieldStatus",
    "FloodSettings",
    "LimitsSettings",
    "OutputSettings",
    "PathsSettings",
    "SessionSettings",
    "Settings",
    "Source",
    "StoreSettings",
    "TelegramServer",
    "TelegramSettings",
    "env_name",
    "env_names",
    "inspect_config",
    "load_config",
    "mask_url",
]
