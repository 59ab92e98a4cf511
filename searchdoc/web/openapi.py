"""The OpenAPI 3.1 description of the JSON API served at ``/openapi.json``."""

from __future__ import annotations

from searchdoc import settings as defaults


def _param(name: str, description: str, schema: dict, required: bool = False, where: str = "query") -> dict:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


def _get(summary: str, command: str, parameters: list[dict], content: str = "application/json",
         not_found: bool = False) -> dict:
    responses = {
        "200": {"description": f"The same answer as `{command}`.", "content": {content: {"schema": {}}}},
        "400": {"description": "Bad input: the command line's one-line message.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    }
    if not_found:
        responses["404"] = {"description": "No such document in the corpus.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


def openapi(version: str) -> dict:
    query = _param("q", "Query in searchdoc's syntax: AND by default, OR, NOT, \"phrases\", prefix*, field:value.",
                   {"type": "string", "maxLength": defaults.WEB_MAX_QUERY_CHARS}, required=True)
    doc = _param("doc", "Only this document (repeatable).", {"type": "array", "items": {"type": "string"}})
    theme = _param("theme", "Only paragraphs with this theme (repeatable: all must apply).",
                   {"type": "array", "items": {"type": "string"}})
    context = _param("context", "Paragraphs of context before and after each hit.",
                     {"type": "integer", "minimum": 0, "maximum": defaults.WEB_MAX_CONTEXT, "default": 0})
    return {
        "openapi": "3.1.0",
        "info": {"title": "searchdoc", "version": version,
                 "description": "Read-only search over Kamerstuk 33 694, nr. 45 and the documents it cites. "
                                "Every answer is the JSON of the matching command with --format json."},
        "paths": {
            "/api/search": _get("Ranked paragraph hits", "searchdoc search … --format json", [
                query,
                _param("limit", "Hits to return.", {"type": "integer", "minimum": 1,
                                                    "maximum": defaults.WEB_MAX_LIMIT, "default": 10}),
                context, doc, theme]),
            "/api/documents/{id}": _get("One document of the corpus", "searchdoc show ID --format json", [
                _param("id", "Document id, e.g. kst-33694-45.", {"type": "string"}, required=True, where="path"),
                _param("paragraph", "Only paragraph N.", {"type": "integer", "minimum": 1})], not_found=True),
            "/api/cite": _get("Resolve a citation", "searchdoc cite REF --format json", [
                _param("ref", "Any common citation form, an id or an official URL.",
                       {"type": "string", "maxLength": defaults.WEB_MAX_QUERY_CHARS}, required=True)]),
            "/api/themes": _get("Themes with paragraph counts", "searchdoc themes --format json", [
                _param("doc", "Count paragraphs of this document only.", {"type": "string"})], not_found=True),
            "/api/export": _get("Every matching paragraph as a download", "searchdoc export", [
                query,
                _param("format", "Export format.", {"enum": ["md", "csv", "jsonl", "ris", "csl-json"],
                                                    "default": "md"}),
                _param("excel", "CSV for Microsoft Excel (UTF-8 byte-order mark).", {"type": "boolean"}),
                _param("limit", "At most N hits.", {"type": "integer", "minimum": 1,
                                                    "maximum": defaults.WEB_MAX_EXPORT}),
                _param("max_chars", "Keep at most N characters of each paragraph.", {"type": "integer",
                                                                                     "minimum": 20}),
                _param("dossier", "Only documents of this dossier (as the search page's filter).", {"type": "string"}),
                _param("year", "Only documents of this year (as the search page's filter).", {"type": "string"}),
                context, doc, theme], content="text/plain"),
        },
        "components": {"schemas": {"Error": {"type": "object", "required": ["error"],
                                             "properties": {"error": {"type": "string"}}}}},
    }
