"""The LLM provider layer (spec ai.md §1): the only code that imports provider SDKs.

Services work with :class:`~tgpilot.gateways.llm.client.LLMClient` (``complete``,
``stream``, ``embed``, ``count_tokens``) and the plain values of
:mod:`~tgpilot.gateways.llm.types`; the SDKs (``openai``, ``anthropic``,
``google-genai``) are imported only when :func:`~tgpilot.gateways.llm.factory.create_llm_client`
builds a client for them. How a command's provider, model, temperature and output limit
are chosen is :func:`~tgpilot.gateways.llm.resolve.resolve_llm`; what is known about each
model is the catalogue (:mod:`~tgpilot.gateways.llm.catalogue`).
"""
