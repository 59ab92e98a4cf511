"""Parsers that turn raw source text (PDF-extracted text, official XML, HTML) into Documents."""

#: Bump when the parsers turn the same bytes into different documents (new fields, other
#: paragraphs or sections): a crawl then parses stored documents again instead of keeping them.
PARSER_VERSION = 2
