"""Counting tokens with tiktoken's ``o200k_base``, offline.

tiktoken downloads its rank files on first use; tgpilot ships ``o200k_base`` instead
(``tgpilot/data/o200k_base.tiktoken.gz``, byte-identical to OpenAI's file: its SHA-256
is checked on load) so that budgets are counted without the network (ai.md §1.3).
The pattern and special tokens are those of ``tiktoken_ext.openai_public.o200k_base``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

ENCODING_NAME = "o200k_base"
RANKS_FILE = "o200k_base.tiktoken.gz"
RANKS_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
SPECIAL_TOKENS = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}


def load_ranks() -> dict[bytes, int]:
    """The packaged ``o200k_base`` ranks, checked against OpenAI's published hash."""
    packed = resources.files("tgpilot.data").joinpath(RANKS_FILE).read_bytes()
    contents = gzip.decompress(packed)
    digest = hashlib.sha256(contents).hexdigest()
    if digest != RANKS_SHA256:
        raise RuntimeError(f"{RANKS_FILE} is damaged: SHA-256 {digest}, expected {RANKS_SHA256}")
    ranks: dict[bytes, int] = {}
    for line in contents.splitlines():
        token, rank = line.split(b" ")
        ranks[base64.b64decode(token)] = int(rank)
    return ranks


@cache
def o200k_base() -> tiktoken.Encoding:
    """The ``o200k_base`` encoding (built once per process)."""
    import tiktoken

    return tiktoken.Encoding(
        ENCODING_NAME,
        pat_str=O200K_PATTERN,
        mergeable_ranks=load_ranks(),
        special_tokens=SPECIAL_TOKENS,
    )


def count_tokens(text: str) -> int:
    """Tokens of ``text`` under ``o200k_base``; special-token text counts as plain text."""
    return len(o200k_base().encode_ordinary(text))
