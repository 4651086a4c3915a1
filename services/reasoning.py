"""Thinking text kept apart from the answer when a model writes it inline as <think>…</think>."""
from __future__ import annotations

OPEN, CLOSE = "<think>", "</think>"


class ThinkSplitter:
    """Splits a streamed text into ("reasoning", …) and ("text", …) pieces, tags possibly cut across chunks."""

    def __init__(self) -> None:
        self._buffer = ""
        self._thinking = False
        self._seen_text = False

    def feed(self, delta: str) -> list[tuple[str, str]]:
        """Pieces that are certain after this delta; a possible partial tag is held back."""
        self._buffer += delta
        out: list[tuple[str, str]] = []
        while self._buffer:
            tag = CLOSE if self._thinking else OPEN
            idx = self._buffer.find(tag)
            if idx >= 0:
                self._emit(out, self._buffer[:idx])
                self._buffer = self._buffer[idx + len(tag):]
                self._thinking = not self._thinking
                continue
            keep = _partial_suffix(self._buffer, tag)
            self._emit(out, self._buffer[:len(self._buffer) - keep])
            self._buffer = self._buffer[len(self._buffer) - keep:]
            break
        return out

    def flush(self) -> list[tuple[str, str]]:
        """Whatever is held back, at the end of the stream."""
        out: list[tuple[str, str]] = []
        self._emit(out, self._buffer)
        self._buffer = ""
        return out

    def _emit(self, out: list[tuple[str, str]], piece: str) -> None:
        if not piece:
            return
        if self._thinking:
            out.append(("reasoning", piece))
            return
        if not self._seen_text:
            # The answer after </think> usually starts with blank lines.
            piece = piece.lstrip("\n")
            if not piece:
                return
            self._seen_text = True
        out.append(("text", piece))


def _partial_suffix(text: str, tag: str) -> int:
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0
