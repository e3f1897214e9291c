"""CRM extraction from chats (spec ai.md §4.3, §5): contacts, deals and action items.

With a model, :func:`~.llm.extract_with_llm` reads the ``crm`` prompt's JSON (merging
map parts locally on natural keys); without one, :func:`~.local.extract_locally` finds
contacts by patterns. Records are stored through :mod:`tgpilot.store.crm` and exported
by :mod:`.table`.
"""

from tgpilot.services.ai.crm.local import extract_locally
from tgpilot.services.ai.crm.result import CrmResult, merge_results, normalise_phone

__all__ = ["CrmResult", "extract_locally", "merge_results", "normalise_phone"]
