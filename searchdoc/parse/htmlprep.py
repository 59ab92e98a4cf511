"""One streaming pass that turns served HTML or XHTML into compact HTML for the HTML walker.

Why: BeautifulSoup keeps a heavy Python object per element, so markup that nests empty
wrappers by the hundred (a hostile page of repeated 100-deep ``div``s) cost seconds per
megabyte and gigabytes of memory. libxml2 reads the bytes here through a parser *target*
(events, no tree), and the markup is written out again without what the walker never looks
at: wrappers that only repeat their parent's boundary, attribute-less ``span``s, comments,
processing instructions and the DOCTYPE. repository.overheid.nl serves XHTML (an XML
declaration, ``<a name="x"/>``); it is read with the XML parser, so empty elements stay
empty and BeautifulSoup never sees an XML document through its HTML parser (no
``XMLParsedAsHTMLWarning``). Pure: bytes in, text out.
"""

from __future__ import annotations

from html import escape

__all__ = ["compact_html"]

# Elements without content in HTML: written without an end tag.
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_CHUNK = 1 << 16


class _Writer:
    """A parser target writing compact HTML; see the module docstring for what is left out.

    A ``div`` without attributes that opens its parent (an attribute-less ``div`` with nothing
    in it yet) adds no boundary of its own: its start is dropped and its end becomes one ``hr``,
    which the walker reads as the same paragraph boundary. Runs of such ``hr`` are written once.
    """

    def __init__(self) -> None:
        self.out: list[str] = []
        # Per open element: (name, written, bare div, anything inside yet).
        self.stack: list[list] = []
        self._rule = False
        #: The deepest element nesting of the markup as served (dropped wrappers included).
        self.depth = 0

    def _mark_content(self) -> None:
        if self.stack:
            self.stack[-1][3] = True

    def start(self, tag, attrib) -> None:
        name = _local(tag)
        self.depth = max(self.depth, len(self.stack) + 1)
        bare_div = name == "div" and not attrib
        parent = self.stack[-1] if self.stack else None
        if bare_div and parent is not None and parent[2] and not parent[3]:
            self.stack.append([name, False, True, False])
            return
        if name == "span" and not attrib:
            self.stack.append([name, False, False, False])
            return
        self._mark_content()
        attributes = "".join(f' {_local(k)}="{escape(v, quote=True)}"' for k, v in attrib.items())
        self.out.append(f"<{name}{attributes}>")
        self._rule = False
        self.stack.append([name, True, bare_div, False])

    def end(self, tag) -> None:
        if not self.stack:
            return
        name, written, bare_div, _ = self.stack.pop()
        if not written:
            if bare_div and not self._rule:
                self.out.append("<hr>")
                self._rule = True
                self._mark_content()
            return
        if name not in _VOID:
            self.out.append(f"</{name}>")
            self._rule = False
        self._mark_content()

    def data(self, text) -> None:
        if not text:
            return
        if text.strip():
            self._mark_content()
            self._rule = False
        self.out.append(escape(text, quote=False))

    def comment(self, text) -> None:
        """Comments are never text."""

    def pi(self, target, data=None) -> None:
        """Processing instructions are never text."""

    def doctype(self, *args) -> None:
        """The DOCTYPE says nothing the walker uses."""

    def close(self) -> tuple[str, int]:
        while self.stack:
            self.end(self.stack[-1][0])
        return "".join(self.out), self.depth


def _local(name) -> str:
    name = str(name)
    return name.rsplit("}", 1)[-1] if name.startswith("{") else name


def _looks_like_xhtml(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<?xml") and b"<!ENTITY" not in data[:65536]


def compact_html(data: bytes) -> tuple[str, int]:
    """The markup of ``data`` (HTML, or XHTML as repository.overheid.nl serves it), compacted,
    and the deepest element nesting of ``data`` as served."""
    from lxml import etree

    if _looks_like_xhtml(data):
        writer = _Writer()
        parser = etree.XMLParser(target=writer, resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=False)
        try:
            for start in range(0, len(data), _CHUNK):
                parser.feed(data[start : start + _CHUNK])
            return parser.close()
        except etree.LxmlError:
            pass  # not well-formed after all (an undeclared &nbsp;): read it as HTML
    from bs4.dammit import UnicodeDammit

    # The same encoding detection BeautifulSoup applies (BOM, <meta charset>, then guessing).
    text = UnicodeDammit(data, is_html=True).unicode_markup or ""
    writer = _Writer()
    parser = etree.HTMLParser(target=writer, no_network=True, remove_comments=True, remove_pis=True)
    for start in range(0, len(text), _CHUNK):
        parser.feed(text[start : start + _CHUNK])
    return parser.close()
