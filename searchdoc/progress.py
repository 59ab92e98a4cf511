"""A progress bar for long CLI operations: shown on a terminal, silent otherwise."""

from __future__ import annotations

import contextlib
import sys


class Progress:
    """``advance(n=1)`` moves the bar; ``note(text)`` shows what it is waiting on beside it."""

    def __init__(self, bar=None) -> None:
        self._bar = bar

    def __call__(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def note(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(text)


@contextlib.contextmanager
def progress_bar(total: int | None, desc: str, unit: str = "it"):
    """Yield a :class:`Progress`; the bar is drawn on stderr only when it is a terminal."""
    if not sys.stderr.isatty():
        yield Progress()
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True) as bar:
        yield Progress(bar)
