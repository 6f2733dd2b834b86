"""LLM mode's chat-model client: llama-index's ``OpenAILike``, configured explicitly.

This is the only module that touches llama-index (and httpx), and it imports them
inside the functions, so the default extractive mode never loads them. A missing or
doubtful configuration is caught here, before any call; failures of the calls
themselves are handled by the generator, which falls back to the quotes.

A streamed answer ends with ``data: [DONE]``; a stream that ends without it was cut off
(a dropped connection, a proxy timeout), and the OpenAI client would take what arrived
for the whole answer. The HTTP transport here watches for the terminator and raises
``StreamCutOff`` when a stream ends without it, so the generator can show only the
complete, verified sentences, with a note.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..errors import GeneratorError

if TYPE_CHECKING:
    import httpx
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai_like import OpenAILike

    from ..settings import Settings

log = logging.getLogger(__name__)

# A failed call is not retried: the extractive answer is ready and is the better
# "retry" than making the reader wait for a second timeout.
MAX_RETRIES = 0
# OpenAI's client insists on a key; local servers (Ollama, vLLM, llama.cpp) ignore it.
# A placeholder also keeps an unrelated OPENAI_API_KEY from being sent to them.
NO_API_KEY = "not-needed"
TERMINATOR = b"[DONE]"


class StreamCutOff(GeneratorError):
    """A streamed answer ended without its terminator: what arrived may be incomplete."""


def chat_model(settings: Settings) -> OpenAILike:
    """An explicitly configured ``OpenAILike``; llama-index's global Settings are untouched."""
    if not settings.llm_base_url:
        raise GeneratorError(
            "SKINQA_GENERATOR=llm needs SKINQA_LLM_BASE_URL, e.g. "
            "http://localhost:11434/v1 for Ollama (see docs/llm.md)."
        )
    if not settings.llm_base_url.rstrip("/").endswith("/v1"):
        # Ollama, vLLM, llama.cpp and OpenAI all serve the API under /v1; without it
        # every call 404s and every answer quietly falls back to the quotes.
        log.warning("SKINQA_LLM_BASE_URL=%s does not end in /v1", settings.llm_base_url)
    from llama_index.llms.openai_like import OpenAILike  # lazy: see the module docstring

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else NO_API_KEY
    return OpenAILike(
        model=settings.llm_model,
        api_base=settings.llm_base_url,
        api_key=key,
        is_chat_model=True,
        is_function_calling_model=False,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout,
        max_retries=MAX_RETRIES,
        http_client=http_client(),
    )


def http_client() -> httpx.Client:
    """An httpx client whose transport raises ``StreamCutOff`` for a cut-off stream."""
    import httpx  # lazy: see the module docstring

    class Watched(httpx.SyncByteStream):
        def __init__(self, stream: httpx.SyncByteStream) -> None:
            self.stream = stream

        def __iter__(self):
            tail, done = b"", False
            for chunk in self.stream:
                window = tail + chunk  # the terminator may straddle two chunks
                done = done or TERMINATOR in window
                tail = window[-len(TERMINATOR) :]
                yield chunk
            if not done:
                raise StreamCutOff("the stream ended without its terminator (data: [DONE])")

        def close(self) -> None:
            self.stream.close()

    class TerminatorCheck(httpx.BaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.HTTPTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = self.inner.handle_request(request)
            streamed = response.headers.get("content-type", "").startswith("text/event-stream")
            # Compressed bytes cannot be searched; such a stream goes unwatched.
            encoded = response.headers.get("content-encoding", "identity") != "identity"
            if streamed and not encoded and isinstance(response.stream, httpx.SyncByteStream):
                response.stream = Watched(response.stream)
            return response

        def close(self) -> None:
            self.inner.close()

    return httpx.Client(transport=TerminatorCheck())


def chat_messages(system: str, user: str) -> list[ChatMessage]:
    """The two messages of a request, as llama-index wants them."""
    from llama_index.core.llms import ChatMessage, MessageRole  # lazy: see the module docstring

    return [
        ChatMessage(role=MessageRole.SYSTEM, content=system),
        ChatMessage(role=MessageRole.USER, content=user),
    ]
