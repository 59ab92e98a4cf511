"""The one error hierarchy of searchdoc.

Every error the library raises on purpose derives from :class:`SearchdocError`. The CLI maps
:class:`UsageError` subclasses to exit code 2 (bad usage or input) and everything else to exit
code 1 (runtime failure). Messages are one line and say what to try next.
"""

import contextlib
import os
from collections.abc import Iterator


class SearchdocError(Exception):
    """Base of all searchdoc errors; exit code 1 unless a subclass says otherwise."""

    exit_code = 1


class UsageError(SearchdocError):
    """The user's input is wrong (a query, an id, a file, an option): exit code 2."""

    exit_code = 2


class QueryError(UsageError):
    """A search query cannot be parsed or uses an unknown field."""


class UnknownDocumentError(UsageError):
    """An identifier that is not in the corpus."""


class InvalidIdentifierError(UsageError):
    """A string that is not a valid official document identifier (or would escape the corpus)."""


class CitationParseError(UsageError):
    """A reference string that is not a Dutch parliamentary citation."""


class InputFileError(UsageError):
    """A file given on the command line is missing, unreadable, binary, oversized or unparseable."""


class CorpusError(SearchdocError):
    """The corpus folder is missing, unwritable or holds a damaged document."""


class WriteError(SearchdocError):
    """A file or folder cannot be written (disk full, read-only file system, permissions). The
    message names the path and, where known, the space needed; nothing half-written is left."""


class IndexDamagedError(SearchdocError):
    """The index is damaged or cannot be opened; ``searchdoc index --rebuild`` repairs it."""


class LockedError(SearchdocError):
    """Another searchdoc process holds the write lock on the corpus or the index."""


class ParseError(SearchdocError):
    """A fetched or ingested source could not be parsed into a document."""


class UnsafeContentError(ParseError):
    """A source carried hostile content (entity expansion, external entities, oversized input)."""


class FetchError(SearchdocError):
    """A network fetch failed after its retries."""


class OfflineError(FetchError):
    """No connection to the configured services could be made at all."""


class NotFoundError(FetchError):
    """The service answered that the document does not exist (also for soft 404 pages)."""


class ForeignHostError(FetchError):
    """A redirect or link pointed at a host outside the configured services; it was refused."""


class ThemeError(UsageError):
    """An unknown theme id, or a taxonomy file that cannot be read."""


class OutputError(SearchdocError):
    """Output could not be written (standard output or an --output file: a full disk, a closed pipe)."""


def one_line(message: object) -> str:
    """A message (an exception, a server's or a document's words) as one line."""
    return " ".join(str(message).split())


@contextlib.contextmanager
def output_errors(where: str | os.PathLike) -> Iterator[None]:
    """An OSError of a write as one OutputError naming where the output was going."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        if isinstance(exc, SearchdocError):
            raise
        raise OutputError(f"cannot write to {where}: {exc.strerror or exc}") from None
