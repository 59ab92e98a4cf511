"""The command-line interface: parse options, call the library, render, map errors to exit codes.

Exit codes: 0 success, 1 runtime failure, 2 bad usage or input. Every error is one line on
stderr; set SEARCHDOC_DEBUG=1 to see a traceback for an unexpected one.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time

import click

from searchdoc import __version__
from searchdoc.settings import WEB_HOST, WEB_PORT

FORMATS = click.Choice(["text", "json"])


class AppContext:
    """Lazily resolved settings, corpus and index shared by the commands of one invocation."""

    def __init__(self, corpus: str | None, index: str | None, color: str):
        self._corpus_opt, self._index_opt, self.color_mode = corpus, index, color
        self._settings = self._corpus = self._index = None

    @property
    def settings(self):
        if self._settings is None:
            from searchdoc import settings

            self._settings = settings.resolve(self._corpus_opt, self._index_opt)
        return self._settings

    def corpus(self, create: bool = False, require: bool = True):
        from searchdoc.pipeline import open_corpus

        corpus = open_corpus(self.settings, create=create)
        return corpus.require() if require else corpus

    def index(self, corpus=None, fresh: bool = True):
        from searchdoc.index import Index

        if self._index is None:
            self._index = Index(self.settings.index_dir, corpus or self.corpus(), self.settings)
        if fresh:
            built = self._index.ensure_fresh(on_update=status) is not None
            # From here the command only reads the index and analyses a few words (the query, the
            # hits): looking them up in the word store costs less than loading the word lists,
            # most of a cold search. Builds and long-running library users keep loading them.
            use_word_store(built)
        return self._index

    def style(self, stream=None):
        from searchdoc.render import Style

        stream = stream or sys.stdout
        if self.color_mode == "always":
            color = True
        elif self.color_mode == "never":
            color = False
        else:
            color = _is_terminal(stream) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
        width = None
        if _is_terminal(stream):
            import shutil

            width = max(shutil.get_terminal_size().columns - 1, 40)
        return Style(color=color, links=color, width=width)


def _is_terminal(stream) -> bool:
    return stream.isatty()


def status(message: str) -> None:
    """Progress and notes go to stderr so stdout stays clean for pipes and JSON."""
    click.echo(message, err=True)


def use_word_store(built: bool) -> None:
    """Look words up in the word store from now on, writing it first (with a message) when it is
    missing or the index was just built."""
    from searchdoc import analysis
    from searchdoc import settings as defaults

    analysis.use_word_store(defaults.word_store_dir)
    analysis.prepare_word_store(on_write=status, built=built)


def echo(message: str = "", nl: bool = True) -> None:
    """Write to stdout; a failed write (a full disk, a closed terminal) is an OutputError."""
    from searchdoc.errors import output_errors

    with output_errors("standard output"):
        click.echo(message, nl=nl)


# DEL and the C1 controls: JSON may hold them raw, a terminal would obey them.
_JSON_CONTROLS = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


def emit_json(data) -> None:
    echo(json.dumps(data, ensure_ascii=False, indent=2).translate(_JSON_CONTROLS))


def _settings_for_completion(ctx: click.Context):
    from searchdoc import settings

    root = ctx.find_root().params
    return settings.resolve(root.get("corpus_dir"), root.get("index_dir"))


def complete_document_ids(ctx: click.Context, param, incomplete: str) -> list:
    """Document ids of the corpus for shell completion (nothing when there is no corpus)."""
    from click.shell_completion import CompletionItem

    try:
        from searchdoc.corpus import Corpus

        folder = _settings_for_completion(ctx).corpus_dir
        ids = Corpus(folder).ids() if (folder / "documents").is_dir() else []
    except Exception:  # noqa: BLE001 - completion must never print an error into the shell
        return []
    return [CompletionItem(i) for i in ids if i.startswith(incomplete)]


def complete_theme_ids(ctx: click.Context, param, incomplete: str) -> list:
    """Theme ids of the taxonomy in use, with their labels, for shell completion."""
    from click.shell_completion import CompletionItem

    try:
        from searchdoc import themes as theming

        taxonomy = theming.load_taxonomy(_settings_for_completion(ctx).taxonomy_file)
        found = [(t.id, t.label_nl) for t in taxonomy]
    except Exception:  # noqa: BLE001 - completion must never print an error into the shell
        return []
    return [CompletionItem(i, help=label) for i, label in found if i.startswith(incomplete.lower())]


def check_date(ctx, param, value: str | None) -> str | None:
    """--date must be a real calendar date written YYYY-MM-DD."""
    if value is None:
        return None
    import datetime
    import re

    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        datetime.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; expected YYYY-MM-DD, e.g. 2019-05-13") from None
    return value


def emit_json_array(items) -> None:
    """Like ``emit_json(list(items))``, written item by item so memory stays bounded."""
    first = True
    for item in items:
        body = json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        echo(("[\n  " if first else ",\n  ") + body, nl=False)
        first = False
    echo("[]" if first else "\n]")


class SearchdocGroup(click.Group):
    """A Click group whose every error becomes one line on stderr and an exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        from click.exceptions import Abort, ClickException, Exit

        try:
            code = super().main(args=args, prog_name=prog_name or "searchdoc", complete_var=complete_var,
                                standalone_mode=False, **extra)
        except Exit as exc:
            code = exc.exit_code
        except ClickException as exc:
            message = _one_line(exc.format_message())
            in_subcommand = getattr(exc, "ctx", None) and exc.ctx.parent
            command = f"searchdoc {exc.ctx.info_name} --help" if in_subcommand else "searchdoc --help"
            click.echo(f"searchdoc: error: {message} (see '{command}')", err=True)
            code = exc.exit_code
        except (Abort, KeyboardInterrupt):
            click.echo("searchdoc: interrupted", err=True)
            code = 1
        except BrokenPipeError:
            code = 0
        except Exception as exc:  # noqa: BLE001 - the one place that turns every failure into a line
            if os.environ.get("SEARCHDOC_DEBUG"):
                raise
            code = report_error(exc)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


def _one_line(text: str) -> str:
    """A message as one line without control characters (it may quote a document or a server)."""
    from searchdoc.errors import one_line
    from searchdoc.render import clean

    return clean(one_line(text))


def report_error(exc: Exception) -> int:
    """Print one line for ``exc`` and return its exit code."""
    from searchdoc.errors import SearchdocError

    if isinstance(exc, SearchdocError):
        click.echo(f"searchdoc: error: {_one_line(exc)}", err=True)
        return exc.exit_code
    if isinstance(exc, OSError):
        where = f" ({_one_line(exc.filename)})" if getattr(exc, "filename", None) else ""
        click.echo(f"searchdoc: error: {_one_line(exc.strerror or exc)}{where}", err=True)
        return 1
    click.echo(f"searchdoc: internal error: {exc.__class__.__name__}: {_one_line(exc)} "
               "(set SEARCHDOC_DEBUG=1 for details)", err=True)
    return 1


@click.group(cls=SearchdocGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="searchdoc")
@click.option("--corpus", "corpus_dir", metavar="DIR", envvar="SEARCHDOC_CORPUS",
              help="Corpus folder (default: ./corpus in a checkout, else a per-user folder seeded with the letter).")
@click.option("--index", "index_dir", metavar="DIR", envvar="SEARCHDOC_INDEX",
              help="Index folder (default: ./index in a checkout, else a per-user cache folder).")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Bold matches and dim context; auto means only on a terminal and when NO_COLOR is unset.")
@click.pass_context
def cli(ctx, corpus_dir, index_dir, color):
    """Search Kamerstuk 33 694, nr. 45 and the parliamentary documents it cites.

    \b
    Examples:
      searchdoc search "autonome wapensystemen" --context 1
      searchdoc show kst-33694-45 --paragraph 13
      searchdoc ingest kst-33694-45.txt
    """
    ctx.obj = AppContext(corpus_dir, index_dir, color)


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", "-n", type=click.IntRange(min=1), default=10, show_default=True, help="Hits to show.")
@click.option("--context", "-c", type=click.IntRange(min=0, max=50), default=0, show_default=True,
              help="Paragraphs of context before and after each hit.")
@click.option("--doc", "doc_ids", multiple=True, metavar="ID", shell_complete=complete_document_ids,
              help="Only search this document (repeatable).")
@click.option("--theme", "themes", multiple=True, metavar="ID", shell_complete=complete_theme_ids,
              help="Only paragraphs with this theme (repeatable: all must apply).")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--explain", is_flag=True, help="Also show what each word matched: literally, as a compound part, "
              "derived form, synonym or related term.")
@click.option("--no-correct", is_flag=True, help="Search the query as typed even when it finds nothing "
              "and a respelling would.")
@click.pass_obj
def search(app: AppContext, query, limit, context, doc_ids, themes, fmt, explain, no_correct):
    """Search paragraphs; Whoosh syntax: AND by default, OR, NOT, "phrases", prefix*, field:value.

    Piped or without colour, lines of a hit start with '  : ' and lines of its context with
    '  - '; a hit's footnotes follow it, with the documents they cite. On a terminal,
    paragraphs are wrapped to its width.

    \b
    Examples:
      searchdoc search "autonome wapensystemen" --context 1
      searchdoc search '"betekenisvolle menselijke controle"'
      searchdoc search drones --theme drones --format json
      searchdoc search 'cyber* NOT spionage' --doc kst-33694-45
      searchdoc search kernwapens --explain
    """
    from searchdoc import answers

    text = " ".join(query)
    corpus = app.corpus()
    index = app.index(corpus)
    if fmt == "json":
        emit_json(answers.search_answer(index, corpus, text, limit, context, doc_ids, themes, explain=explain,
                                        correct=not no_correct))
    else:
        from searchdoc.render import render_result

        result = answers.search(index, corpus, text, limit, context, doc_ids, themes, explain=explain,
                                correct=not no_correct)
        echo(render_result(result, app.style()))


@cli.command()
@click.argument("doc_id", metavar="ID", shell_complete=complete_document_ids)
@click.option("--paragraph", "-p", type=click.IntRange(min=1), metavar="N", help="Only paragraph N.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.pass_obj
def show(app: AppContext, doc_id, paragraph, fmt):
    """Show a document of the corpus, or one paragraph of it, with footnotes and themes.

    \b
    Examples:
      searchdoc show kst-33694-45
      searchdoc show kst-33694-45 --paragraph 13 --format json
    """
    from searchdoc import answers

    corpus = app.corpus()
    if fmt == "json":
        emit_json(answers.document_answer(corpus, doc_id, app.settings, paragraph))
    else:
        from searchdoc.render import render_document

        view = answers.document(corpus, doc_id, app.settings, paragraph)
        paragraphs = [view.document.paragraph(paragraph)] if paragraph else view.document.paragraphs
        echo(render_document(view.document, view.label, paragraphs, view.themes, app.style(), view.url))


@cli.command(name="list")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.pass_obj
def list_documents(app: AppContext, fmt):
    """List the documents in the corpus.

    \b
    Example:
      searchdoc list --format json
    """
    from searchdoc import documents

    rows = documents.list_documents(app.corpus())
    if fmt == "json":
        emit_json(rows)
        return
    from searchdoc.render import clean

    for row in rows:
        echo(clean(f"{row['id']:<24} {row['date'] or '':<10}  {row['paragraphs']:>4} par.  {row['label']}"))


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@click.option("--id", "doc_id", metavar="ID", help="Document id (default: the file name, e.g. kst-33694-45.txt).")
@click.option("--title", help="Title of the document.")
@click.option("--date", callback=check_date, help="Date of the document, YYYY-MM-DD.")
@click.option("--type", "source_format", type=click.Choice(["text", "xml", "html", "pdf"]),
              help="Source format (default: from the file extension).")
@click.pass_obj
def ingest(app: AppContext, paths, doc_id, title, date, source_format):
    """Add local files to the corpus (PDF-extracted text, official XML, HTML or PDF).

    All files are parsed before any is stored, so a bad file leaves the corpus unchanged.
    The index updates itself on the next search (or run 'searchdoc index').

    \b
    Examples:
      searchdoc ingest kst-33694-45.txt
      searchdoc ingest brief.txt --id kst-33694-48 --title "Brief over motie Koopmans" --date 2019-09-20
    """
    from searchdoc import pipeline
    from searchdoc.errors import UsageError

    if doc_id and len(paths) > 1:
        raise UsageError("--id can only be used with a single file")
    corpus = app.corpus(create=True, require=False)
    overrides = {"title": title, "date": date}
    started = time.monotonic()
    with corpus.write_lock(on_wait=status):
        documents = pipeline.ingest_files(corpus, paths, doc_id=doc_id, overrides=overrides,
                                          source_format=source_format)
    from searchdoc.render import plural

    for document in documents:
        echo(f"ingested {document.id}: {plural(len(document.paragraphs), 'paragraph')}, "
             f"{plural(len(document.footnotes), 'footnote')}")
    status(f"{plural(len(documents), 'document')} stored in {corpus.root} in {time.monotonic() - started:.1f} s")


@cli.command(name="index")
@click.option("--rebuild", is_flag=True, help="Recreate the index from the corpus instead of updating it.")
@click.pass_obj
def index_command(app: AppContext, rebuild):
    """Bring the index up to date with the corpus (only changed documents are re-indexed).

    \b
    Examples:
      searchdoc index
      searchdoc index --rebuild
    """
    from searchdoc.progress import progress_bar
    from searchdoc.render import plural

    corpus = app.corpus()
    index = app.index(corpus, fresh=False)
    started = time.monotonic()
    with progress_bar(total=len(corpus.ids()), desc="indexing", unit="doc") as advance:
        report = index.update(rebuild=rebuild, progress=advance, on_wait=status)
    elapsed = time.monotonic() - started
    # What the first search would otherwise do: the word store for searches that only read.
    use_word_store(report.changed)
    if not report.changed:
        echo(f"index is up to date ({plural(report.unchanged, 'document')})")
        return
    what = "rebuilt" if report.rebuilt else "updated"
    echo(
        f"index {what}: {len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
        f"{plural(report.paragraphs, 'paragraph')} indexed in {elapsed:.1f} s"
    )


@cli.command()
@click.argument("ref", metavar="REF", shell_complete=complete_document_ids)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "ris", "csl-json"]), default="text",
              show_default=True, help="ris and csl-json export the document's reference for Zotero, EndNote, Pandoc.")
@click.pass_obj
def cite(app: AppContext, ref, fmt):
    """Resolve a citation: its id, label, full citation, URL, and every paragraph that cites it.

    REF is any common form: "Kamerstuk 33 694, nr. 12", "Kamerstukken II 2018/19, 33 694, nr. 45",
    "Aanhangsel Handelingen II 2018/19, nr. 264", "Stb. 2019, 288", 2019Z01633, kst-33694-45, or a
    zoek.officielebekendmakingen.nl link.

    \b
    Examples:
      searchdoc cite "Kamerstuk 33 694, nr. 12"
      searchdoc cite "Aanhangsel Handelingen II 2018/19, nr. 264" --format json
      searchdoc cite kst-33694-45 --format ris > letter.ris
    """
    from searchdoc import citegraph

    corpus = app.corpus()
    if fmt == "json":
        from searchdoc import answers

        emit_json(answers.cite_answer(ref, corpus, app.index(corpus)))
        return
    info = citegraph.lookup(ref, corpus, app.index(corpus))
    if fmt in ("ris", "csl-json"):
        from searchdoc import export

        document = corpus.load(info.id) if info.in_corpus else None
        record = export.reference_record(info.id, document=document, fmt=fmt)
        echo(record.translate(_JSON_CONTROLS) if fmt == "csl-json" else record, nl=False)
        return
    from searchdoc.render import clean, plural

    style = app.style()
    echo(style.bold(clean(info.label)) + f"  [{info.id}, {info.kind}]")
    echo(f"citation: {clean(info.citation)}")
    if info.url:
        echo(f"url:      {style.link(clean(info.url), info.url)}")
    if info.resolved:
        echo(f"resolved to: {', '.join(info.resolved)}")
    if info.in_corpus:
        echo(clean(f"in corpus: yes — {info.title or '(untitled)'}" + (f" ({info.date})" if info.date else "")))
    else:
        echo(f"in corpus: no (fetch it with 'searchdoc crawl {info.id}')")
    if not info.cited_by:
        echo("cited by: no paragraph in the corpus")
        return
    echo(f"cited by {plural(len(info.cited_by), 'paragraph')}:")
    for item in info.cited_by:
        note = f", footnote {item.footnote}" if item.footnote else ""
        echo(clean(f"  {item.label}, par. {item.paragraph}{note} ({item.doc_id})"))
        echo("    " + style.dim(clean(item.context)))


@cli.command()
@click.argument("source", metavar="ID|-", shell_complete=complete_document_ids)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.pass_obj
def cites(app: AppContext, source, fmt):
    """List the citations a corpus document makes, or those in text on standard input ('-').

    \b
    Examples:
      searchdoc cites kst-33694-45
      echo "Zie Kamerstuk 33 694, nr. 12 en 2019Z01633." | searchdoc cites - --format json
    """
    from searchdoc import citegraph

    if source == "-":
        rows = citegraph.text_citations(sys.stdin)
    else:
        rows = iter(citegraph.document_citations(app.corpus().load(source)))
    if fmt == "json":
        emit_json_array({k: row[k] for k in ("id", "raw", "paragraph", "footnote")} for row in rows)
        return
    first = next(rows, None)
    if first is None:
        echo("no citations found")
        return
    from searchdoc.render import clean

    for row in itertools.chain([first], rows):
        where = []
        if row["paragraph"] is not None:
            where.append(f"par. {row['paragraph']}")
        if row["footnote"] is not None:
            where.append(f"footnote {row['footnote']}")
        echo(clean(f"{row['id']:<24} {', '.join(where):<22} {row['raw']}"))


@cli.group(invoke_without_command=True)
@click.option("--doc", "doc_id", metavar="ID", shell_complete=complete_document_ids,
              help="Count paragraphs of this document only.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.pass_context
def themes(ctx, doc_id, fmt):
    """The themes with their paragraph counts; 'themes explain' shows why a paragraph got its themes.

    \b
    Examples:
      searchdoc themes
      searchdoc themes --doc kst-33694-45 --format json
      searchdoc themes explain kst-33694-45 13
    """
    if ctx.invoked_subcommand is not None:
        return
    app: AppContext = ctx.obj
    corpus = app.corpus()
    if fmt == "json":
        from searchdoc import answers

        emit_json(answers.themes_answer(app.index(corpus), corpus, doc_id))
        return
    from searchdoc import documents

    rows = documents.theme_summary(app.index(corpus), corpus, doc_id)
    for row in rows:
        echo(f"{row['id']:<22} {row['count']:>6}  {row['label']} ({row['label_en']})")


@themes.command()
@click.argument("doc_id", metavar="ID", shell_complete=complete_document_ids)
@click.argument("paragraph", type=click.IntRange(min=1))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.pass_obj
def explain(app: AppContext, doc_id, paragraph, fmt):
    """Show which terms of paragraph PARAGRAPH of ID gave which theme.

    A term counts once per theme however often it occurs: its repeats are shown as +0.

    \b
    Example:
      searchdoc themes explain kst-33694-45 13
    """
    from searchdoc import documents

    data = documents.theme_evidence(app.corpus(), doc_id, paragraph, app.settings)
    if fmt == "json":
        emit_json(data)
        return
    from searchdoc.render import clean

    style = app.style()
    echo(style.bold(f"{doc_id} ¶{paragraph}") + (clean(f" — {data['section']}") if data["section"] else ""))
    echo(f"themes: {', '.join(data['themes']) or '(none)'} (threshold {data['threshold']:g})")
    by_theme: dict[str, list[dict]] = {}
    for item in data["evidence"]:
        by_theme.setdefault(item["theme"], []).append(item)
    for theme, items in by_theme.items():
        mark = "tagged" if theme in data["themes"] else "below threshold"
        echo(f"  {theme}: score {data['scores'].get(theme, 0):g} ({mark})")
        for item in items:
            where = "heading" if item["heading"] else f"chars {item['start']}-{item['end']}"
            weight = f"+{item['weight']:g}" if item["counted"] else "+0"
            repeat = "" if item["counted"] else ", a repeat: counted once"
            echo(clean(f"    {weight}  {item['text']!r} matched term {item['term']!r} ({where}{repeat})"))


@cli.command()
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option("--depth", type=click.IntRange(min=1, max=5), default=1, show_default=True,
              help="1 fetches the cited documents; 2 also what those cite; and so on.")
@click.option("--cited-by", is_flag=True, help="Also fetch documents that cite the starting documents (SRU search).")
@click.option("--refresh", is_flag=True, help="Re-check crawled documents with conditional requests; store changes.")
@click.option("--max-docs", type=click.IntRange(min=1), metavar="N", help="Fetch at most N documents.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.pass_context
def crawl(ctx, ids, depth, cited_by, refresh, max_docs, fmt):
    """Fetch cited documents from the official publications into the corpus, then index them.

    Without IDs it starts from the citations of the documents in the corpus. IDs may be written
    in any citation form; zaak numbers (2019Z01633) are resolved to the answer's publication.
    Documents already in the corpus are reported as cached; an interrupted crawl resumes.
    Exit code 1 when a document failed (not for documents that do not exist).

    \b
    Examples:
      searchdoc crawl
      searchdoc crawl kst-33694-12 "Aanhangsel Handelingen II 2018/19, nr. 264" 2019Z01633
      searchdoc crawl --depth 2 --max-docs 50
      searchdoc crawl --cited-by --format json
      searchdoc crawl --refresh
    """
    from searchdoc import crawl as crawling
    from searchdoc.errors import SearchdocError, one_line
    from searchdoc.progress import progress_bar

    app: AppContext = ctx.obj
    corpus = app.corpus(require=not ids)
    try:
        with progress_bar(total=max_docs, desc="crawling", unit="doc") as advance:
            report = crawling.crawl(
                app.settings, corpus, ids, depth=depth, cited_by=cited_by, refresh=refresh, max_docs=max_docs,
                progress=advance, on_wait=status,
                on_attempt=lambda host, attempt, attempts: advance.note(f"{host}, attempt {attempt} of {attempts}"))
    except SearchdocError as exc:
        if fmt == "json" and exc.exit_code == 1:
            # A script reading the JSON learns why the crawl stopped; stderr still has the one line.
            emit_json({**crawling.CrawlReport().to_dict(), "error": one_line(exc)})
        raise
    if fmt == "json":
        emit_json(report.to_dict())
    else:
        from searchdoc.render import clean_lines

        echo(clean_lines(crawling.render_text(report)))
    if not report.ok:
        ctx.exit(1)


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--format", "-f", "fmt", type=click.Choice(["md", "csv", "jsonl", "ris", "csl-json"]),
              help="md: readable report; csv: one row per hit; jsonl: one JSON object per hit; ris and csl-json: "
                   "one reference per document for Zotero, EndNote, Mendeley or Pandoc (default: from the "
                   "--output name; md on standard output).")
@click.option("--output", "-o", metavar="FILE", default="-", show_default=True,
              help="File to write, '-' for stdout; it appears only once the export is complete.")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=None, help="At most N hits (default: all).")
@click.option("--context", "-c", type=click.IntRange(min=0, max=50), default=0, show_default=True,
              help="Paragraphs of context before and after each hit (md, csv, jsonl).")
@click.option("--doc", "doc_ids", multiple=True, metavar="ID", shell_complete=complete_document_ids,
              help="Only search this document (repeatable).")
@click.option("--theme", "themes", multiple=True, metavar="ID", shell_complete=complete_theme_ids,
              help="Only paragraphs with this theme (repeatable: all must apply).")
@click.option("--max-chars", type=click.IntRange(min=20), default=None, metavar="N",
              help="Keep at most N characters of each paragraph, around its first match; cuts are marked […].")
@click.option("--excel", is_flag=True,
              help="CSV for Microsoft Excel: a UTF-8 byte-order mark, and a quote before cells starting with "
                   "= + - @ (tab, CR), so a spreadsheet never runs them as formulas.")
@click.pass_obj
def export(app: AppContext, query, fmt, output, limit, context, doc_ids, themes, max_chars, excel):
    """Export every matching paragraph with its pinpoint citation: md, csv, jsonl, ris, csl-json.

    Same query language and filters as 'search'; all hits unless --limit. Snippets are the exact
    corpus text. The export streams, so any number of hits fits in memory.

    \b
    Examples:
      searchdoc export drones
      searchdoc export drones --format md -o drones.md
      searchdoc export "autonome wapensystemen" --format csv --excel -o laws.csv
      searchdoc export cyber* --theme cyber --format jsonl --max-chars 300
      searchdoc export drones --format ris -o drones.ris
    """
    from searchdoc import answers
    from searchdoc import export as exporting
    from searchdoc.progress import progress_bar

    to_stdout = output == "-"
    fmt = fmt or ("md" if to_stdout else exporting.format_for_path(output))
    corpus = app.corpus()
    prepared = answers.export(app.index(corpus), corpus, " ".join(query), fmt, limit=limit, context=context,
                              doc_ids=doc_ids, themes=themes, max_chars=max_chars, excel=excel)
    if to_stdout:
        target = exporting.stream_output(sys.stdout, bom=excel)
    else:
        target = exporting.atomic_output(output, bom=excel)
    with target as stream, progress_bar(total=prepared.total, desc="exporting", unit="hit") as advance:
        if to_stdout and _is_terminal(sys.stdout):
            from searchdoc.render import TerminalSafe

            stream = TerminalSafe(stream)
        count = prepared.write(stream, progress=advance)
    if not to_stdout:
        from searchdoc.render import plural

        status(f"exported {plural(count, 'hit')} to {output}")


@cli.command()
@click.option("--repair/--no-repair", default=True, show_default=True,
              help="Fix what can be fixed (re-parse damaged documents, remove leftovers, re-index).")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.pass_context
def doctor(ctx, repair, fmt):
    """Check the corpus against the index, and repair what can be repaired.

    Checks that every document loads, raw files match the sha256 in their provenance, every
    paragraph is indexed exactly once, and no temporary files or staging folders are left over.
    Exit code 0 when healthy or repaired, 1 when problems remain.

    \b
    Examples:
      searchdoc doctor
      searchdoc doctor --no-repair --format json
    """
    from searchdoc import doctor as doctoring

    app: AppContext = ctx.obj
    report = doctoring.doctor(app.settings, repair=repair, on_wait=status)
    if fmt == "json":
        emit_json(report.to_dict())
    else:
        from searchdoc.render import clean_lines

        echo(clean_lines(doctoring.render_text(report)))
    if not report.healthy:
        ctx.exit(1)


@cli.command()
@click.option("--host", default=WEB_HOST, show_default=True,
              help="Address to listen on; anything but loopback makes the corpus readable from the network.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=WEB_PORT, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--open", "open_browser", is_flag=True, help="Open the search page in the default web browser.")
@click.option("--workers", type=click.IntRange(min=1, max=64), default=1, show_default=True,
              help="Server processes; more answer more concurrent readers (about one per CPU core).")
@click.pass_obj
def serve(app: AppContext, host, port, open_browser, workers):
    """Serve a read-only web interface and JSON API over the corpus until Ctrl-C.

    Pages: search with facets and exports, documents with citation links both ways, a citation
    graph, citation lookup. The API (/api/search, /api/documents/ID, /api/cite, /api/export,
    /api/themes; described at /openapi.json) returns the JSON of the commands' --format json.

    \b
    Examples:
      searchdoc serve
      searchdoc serve --port 8080 --open
      searchdoc serve --workers 2
    """
    from searchdoc.web.server import serve as serving

    serving(app.settings, host, port, open_browser, status=status, workers=workers)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    cli.main(args=argv, prog_name="searchdoc")
