"""Clients for the official services: one polite HTTP client and one module per service.

``http`` owns the network (delay, retries, cache, redirects, limits); ``officielebekendmakingen``,
``sru`` and ``tweedekamer`` turn service answers into raw bytes, ids and urls. Nothing here parses
document content; that is ``searchdoc.parse``.
"""
