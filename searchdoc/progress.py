"""A progress bar for long CLI operations: shown on a terminal, silent otherwise."""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def progress_bar(total: int | None, desc: str, unit: str = "it"):
    """Yield a callable ``advance(n=1)``; the bar is drawn on stderr only when it is a terminal."""
    if not sys.stderr.isatty():
        yield lambda n=1: None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True) as bar:
        yield bar.update
