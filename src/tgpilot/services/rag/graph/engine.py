"""LightRAG, assembled from tgpilot's parts (spec ai.md §4.9).

:func:`open_lightrag` builds one ``lightrag-hku`` instance for a command and closes it:

- its working dir is ``<data dir>/lightrag/``, with LightRAG's file stores by default
  (JSON key-value and document status, NanoVectorDB, NetworkX); vectors go to Qdrant
  when ``vector.url`` is set and the graph to Neo4j when ``graph.neo4j_url`` is set
  (:func:`choose_storage`). LightRAG reads those servers' addresses and credentials
  from the environment only, so they are set for the lifetime of the instance and
  restored afterwards; they never reach logs or output. A server storage's driver must
  be installed already (:func:`require_drivers`): LightRAG would pip-install it;
- its ``llm_model_func`` sends every request through our
  :class:`~tgpilot.gateways.llm.client.LLMClient` (retries, pacing, usage rows, the
  response cache) — LightRAG's own answer cache is off so nothing bypasses ours;
- its ``embedding_func`` is our :class:`~tgpilot.gateways.llm.embeddings.TextEmbedder`
  (batches of 100, blanks never sent, calls counted);
- its tokenizer is our packaged ``o200k_base``, so LightRAG never downloads tiktoken
  files.

``lightrag-hku`` (the optional ``tgpilot[graph]`` extra) ships no type information; every
use of it goes through :func:`lightrag_module`, which imports it on demand and turns its
absence into a ConfigError with the fix.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from tgpilot.core.config import Config
from tgpilot.core.config.environment import scoped_environment
from tgpilot.core.errors import ConfigError
from tgpilot.gateways.llm.embeddings import BATCH_SIZE
from tgpilot.gateways.llm.tokens import ENCODING_NAME, o200k_base
from tgpilot.gateways.llm.types import ChatMessage, Role

if TYPE_CHECKING:
    import numpy as np

    from tgpilot.gateways.llm.client import LLMClient
    from tgpilot.gateways.llm.embeddings import TextEmbedder

LightRAGInstance: TypeAlias = Any
"""A ``lightrag.LightRAG`` (lightrag-hku ships no type information)."""

GRAPH_EXTRA = "graph"
WORKING_DIR = "lightrag"
DOCUMENT_TOKENS = 1200
"""LightRAG's chunk size: above a rendered chunk (``rag.chunk_tokens`` and a header), so a
document is one LightRAG chunk; a single longer message is split and still cites it."""

FILE_KV = "JsonKVStorage"
FILE_DOC_STATUS = "JsonDocStatusStorage"
FILE_VECTORS = "NanoVectorDBStorage"
FILE_GRAPH = "NetworkXStorage"
QDRANT_VECTORS = "QdrantVectorDBStorage"
NEO4J_GRAPH = "Neo4JStorage"

_ROLES: dict[str, Role] = {"system": "system", "user": "user", "assistant": "assistant"}


@dataclass(frozen=True)
class GraphStorage:
    """Which LightRAG storages a graph uses, and the environment they read."""

    vector: str = FILE_VECTORS
    graph: str = FILE_GRAPH
    kv: str = FILE_KV
    doc_status: str = FILE_DOC_STATUS
    environment: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Variables LightRAG's server storages read (addresses and credentials)."""

    def describe(self) -> dict[str, str]:
        """The storage names, for output (no addresses, no credentials)."""
        return {"vectors": self.vector, "graph": self.graph, "documents": self.kv}


def choose_storage(config: Config) -> GraphStorage:
    """File stores, Qdrant for vectors with ``vector.url``, Neo4j with ``graph.neo4j_url``."""
    environment: dict[str, str] = {}
    vector = FILE_VECTORS
    if config.vector.url:
        vector = QDRANT_VECTORS
        environment["QDRANT_URL"] = config.vector.url
        if config.vector.api_key is not None:
            environment["QDRANT_API_KEY"] = config.vector.api_key.get_secret_value()
    graph = FILE_GRAPH
    settings = config.graph
    if settings.neo4j_url:
        if settings.neo4j_password is None:
            raise ConfigError(
                "graph.neo4j_url is set but graph.neo4j_password is not",
                hint="set TGPILOT_GRAPH__NEO4J_PASSWORD (or unset graph.neo4j_url)",
            )
        graph = NEO4J_GRAPH
        environment["NEO4J_URI"] = settings.neo4j_url
        environment["NEO4J_USERNAME"] = settings.neo4j_user
        environment["NEO4J_PASSWORD"] = settings.neo4j_password.get_secret_value()
    return GraphStorage(vector=vector, graph=graph, environment=environment)


def working_dir(config: Config) -> Path:
    """``<data dir>/lightrag``."""
    return config.home / WORKING_DIR


@contextmanager
def root_logging_kept() -> Iterator[None]:
    """The root logger as it was, whatever the block imports: ``nano-vectordb`` (LightRAG's
    file vector store) calls ``logging.basicConfig(level=INFO)`` when imported, which
    would print every library's INFO lines on stderr."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def lightrag_module(name: str = "lightrag") -> Any:
    """The ``lightrag-hku`` module ``name``; a ConfigError (exit 2) naming the extra
    when the library is not installed."""
    try:
        with root_logging_kept():
            return importlib.import_module(name)
    except ImportError as exc:
        raise ConfigError(
            "the knowledge graph needs lightrag-hku, which is not installed",
            hint=f"install the extra: pip install 'tgpilot[{GRAPH_EXTRA}]'",
        ) from exc


def o200k_tokenizer() -> Any:
    """Our packaged ``o200k_base`` as a LightRAG tokenizer (shared, never copied)."""
    tokenizer: Any = lightrag_module("lightrag.utils").Tokenizer

    class PackagedTokenizer(tokenizer):  # type: ignore[misc]
        """Thread-safe (tiktoken is) and shared: a deep copy is the same object."""

        def __deepcopy__(self, memo: dict[int, object]) -> PackagedTokenizer:
            return self

    return PackagedTokenizer(ENCODING_NAME, o200k_base())


def chat_messages(
    prompt: str, system_prompt: str | None, history: Sequence[Mapping[str, Any]] | None
) -> list[ChatMessage]:
    """LightRAG's request (system prompt, history, prompt) as our chat messages."""
    messages: list[ChatMessage] = []
    if system_prompt:
        messages.append(ChatMessage("system", system_prompt))
    for turn in history or ():
        role = _ROLES.get(str(turn.get("role", "")))
        content = str(turn.get("content", ""))
        if role is not None and content:
            messages.append(ChatMessage(role, content))
    messages.append(ChatMessage("user", prompt))
    return messages


def model_function(client: LLMClient) -> Any:
    """LightRAG's ``llm_model_func``: one completion through our client."""

    async def complete(
        prompt: str,
        system_prompt: str | None = None,
        history_messages: Sequence[Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> str:
        response_format = options.get("response_format") or {}
        json_mode = bool(options.get("keyword_extraction")) or (
            isinstance(response_format, Mapping) and response_format.get("type") == "json_object"
        )
        messages = chat_messages(prompt, system_prompt, history_messages)
        completion = await client.complete(messages, json_mode=json_mode)
        return completion.text

    return complete


def embedding_function(embedder: TextEmbedder | None, model: str, dimension: int) -> Any:
    """LightRAG's ``embedding_func``: our embedder, its batches and counters (None: a
    graph opened only to be read, which must embed nothing)."""
    import numpy as np

    embedding_func = lightrag_module("lightrag.utils").EmbeddingFunc

    async def embed(texts: Sequence[str], **_options: Any) -> np.ndarray[Any, Any]:
        if embedder is None:
            raise ConfigError("this graph was opened to be read only; it cannot embed text")
        vectors = await embedder.embed(list(texts))
        return np.array(vectors, dtype=np.float32).reshape(len(vectors), dimension)

    return embedding_func(embedding_dim=dimension, func=embed, model_name=model)


DRIVERS = {NEO4J_GRAPH: "neo4j", QDRANT_VECTORS: "qdrant_client"}
"""The Python package each server storage needs (LightRAG would pip-install a missing
one at run time; tgpilot refuses instead)."""


def require_drivers(storage: GraphStorage) -> None:
    """ConfigError (exit 2) when a chosen server storage's driver is not installed."""
    for name in (storage.vector, storage.graph):
        package = DRIVERS.get(name)
        if package is not None and importlib.util.find_spec(package) is None:
            raise ConfigError(
                f"{name} needs the {package} package, which is not installed",
                hint=f"pip install {package.replace('_', '-')} (or unset the server's URL)",
            )


def create_lightrag(
    config: Config,
    storage: GraphStorage,
    *,
    embedder: TextEmbedder | None,
    model: str,
    dimension: int,
    client: LLMClient | None = None,
) -> LightRAGInstance:
    """The LightRAG instance (storages not initialised yet). Call it inside
    ``scoped_environment(storage.environment)``: server storages read it."""
    require_drivers(storage)
    lightrag = lightrag_module()
    folder = working_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    for library in ("lightrag", "nano-vectordb"):
        logging.getLogger(library).setLevel(logging.CRITICAL)  # failures reach our report
    with root_logging_kept():
        return lightrag.LightRAG(
            working_dir=str(folder),
            workspace="",
            kv_storage=storage.kv,
            vector_storage=storage.vector,
            graph_storage=storage.graph,
            doc_status_storage=storage.doc_status,
            llm_model_func=model_function(client) if client is not None else _no_model,
            llm_model_name=client.model.name if client is not None else "none",
            embedding_func=embedding_function(embedder, model, dimension),
            embedding_batch_num=embedder.batch_size if embedder is not None else BATCH_SIZE,
            tokenizer=o200k_tokenizer(),
            chunk_token_size=DOCUMENT_TOKENS,
            enable_llm_cache=False,
            enable_llm_cache_for_entity_extract=False,
        )


@asynccontextmanager
async def open_lightrag(
    config: Config,
    *,
    embedder: TextEmbedder | None,
    model: str,
    dimension: int,
    client: LLMClient | None = None,
    storage: GraphStorage | None = None,
) -> AsyncIterator[LightRAGInstance]:
    """A LightRAG instance over ``<data dir>/lightrag`` (see the module docstring) with
    vectors of ``model`` (``dimension`` long), its storages initialised and finalised
    when the block ends. Without ``client`` no model is configured: callers insert a
    custom graph and ask for context only."""
    chosen = storage or choose_storage(config)
    shared_storage = lightrag_module("lightrag.kg.shared_storage")
    with scoped_environment(chosen.environment):
        rag = create_lightrag(
            config, chosen, embedder=embedder, model=model, dimension=dimension, client=client
        )
        with root_logging_kept():
            await rag.initialize_storages()
        try:
            yield rag
        finally:
            await rag.finalize_storages()
            shared_storage.finalize_share_data()


async def _no_model(*_args: Any, **_kwargs: Any) -> str:
    """The model of a graph opened without one: never called (custom-KG inserts and
    context-only queries with keywords do not ask a model)."""
    raise ConfigError(
        "this graph operation needs a language model, and none is configured",
        hint="set llm.provider and its key, or use the heuristic graph (--provider local)",
    )
