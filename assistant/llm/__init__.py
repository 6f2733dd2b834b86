"""LLM mode (optional): an OpenAI-compatible model rewrites the extractive reply, and
every sentence it writes is verified against the sources before anyone sees it.

``generator`` (``LLMGenerator``) -> ``prompt`` (the sources and the prompt) ->
``client`` (the chat model) -> ``verify`` (sentence-by-sentence checks).
"""

from .generator import LLMGenerator

__all__ = ["LLMGenerator"]
