"""The web front door of searchdoc (``searchdoc serve``): pages and a JSON API over one corpus.

A sibling of :mod:`searchdoc.cli`: it calls the same library functions (:mod:`searchdoc.answers`
for everything the API returns) and is the only package that knows the web framework.
"""
