"""Viral questions (spec telegram-cli §4.5): post prepared questions to chats, measure them.

``importing`` reads and validates a questions file and upserts it into the store;
``send`` plans the ``active`` questions and applies the plan (kind ``telegram.viral``);
``stats`` reads back the reactions and replies each sent question got and judges them
against the chat's expected ranges.
"""
