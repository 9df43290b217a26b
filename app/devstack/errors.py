from __future__ import annotations


class DevStackError(RuntimeError):
    """A local server could not start. The message says what to do, in one line."""
