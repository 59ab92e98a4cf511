"""Parsers that turn raw source text (PDF-extracted text, official XML, HTML) into Documents."""
