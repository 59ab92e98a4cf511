"""searchdoc: full-text search over Kamerstuk 33 694, nr. 45 and the documents it cites.

The package is a library first; ``searchdoc.cli`` is a thin Click layer on top of it.
Heavy dependencies (whoosh, requests, lxml, bs4) are imported inside the functions that need
them so that importing this package, and ``searchdoc --help``, stays instant.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
