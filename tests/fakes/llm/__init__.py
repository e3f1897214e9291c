"""A fake LLM provider server (OpenAI-, Anthropic- and Gemini-shaped) for tests,
benchmarks and demos; the official SDKs reach it through their ``base_url``."""

from tests.fakes.llm.replies import Reply
from tests.fakes.llm.server import FakeLLMServer, RecordedRequest
from tests.fakes.llm.transport import LoopbackTransport

__all__ = ["FakeLLMServer", "LoopbackTransport", "RecordedRequest", "Reply"]
