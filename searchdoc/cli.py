"""The command-line interface: parse options, call the library, render, map errors to exit codes.

Exit codes: 0 success, 1 runtime failure, 2 bad usage or input. Every error is one line on
stderr; set SEARCHDOC_DEBUG=1 to see a traceback for an unexpected one.
"""

from __future__ import annotations

import json
import os
import sys
import time

import click

from searchdoc import __version__

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
            self._index.ensure_fresh(on_update=status)
            from searchdoc import analysis
            from searchdoc import settings as defaults

            # From here the command only reads the index and analyses a few words (the query, the
            # hits): looking them up in the word store costs less than loading the word lists,
            # most of a cold search. Builds and long-running library users keep loading them.
            analysis.use_word_store(defaults.user_cache_dir)
        return self._index

    def style(self, stream=None):
        from searchdoc.render import Style

        stream = stream or sys.stdout
        if self.color_mode == "always":
            color = True
        elif self.color_mode == "never":
            color = False
        else:
            color = stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
        return Style(color=color, links=color)


def status(message: str) -> None:
    """Progress and notes go to stderr so stdout stays clean for pipes and JSON."""
    click.echo(message, err=True)


def emit_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


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
            message = " ".join(exc.format_message().split())
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


def report_error(exc: Exception) -> int:
    """Print one line for ``exc`` and return its exit code."""
    from searchdoc.errors import SearchdocError

    if isinstance(exc, SearchdocError):
        click.echo(f"searchdoc: error: {' '.join(str(exc).split())}", err=True)
        return exc.exit_code
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        click.echo(f"searchdoc: error: {exc.strerror or exc}{where}", err=True)
        return 1
    click.echo(f"searchdoc: internal error: {exc.__class__.__name__}: {exc} (set SEARCHDOC_DEBUG=1 for details)",
               err=True)
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
@click.option("--doc", "doc_ids", multiple=True, metavar="ID", help="Only search this document (repeatable).")
@click.option("--theme", "themes", multiple=True, metavar="ID",
              help="Only paragraphs with this theme (repeatable: all must apply).")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.pass_obj
def search(app: AppContext, query, limit, context, doc_ids, themes, fmt):
    """Search paragraphs; Whoosh syntax: AND by default, OR, NOT, "phrases", prefix*, field:value.

    \b
    Examples:
      searchdoc search "autonome wapensystemen" --context 1
      searchdoc search '"betekenisvolle menselijke controle"'
      searchdoc search drones --theme drones --format json
      searchdoc search 'cyber* NOT spionage' --doc kst-33694-45
    """
    from searchdoc import search as searching

    text = " ".join(query)
    corpus = app.corpus()
    index = app.index(corpus)
    result = searching.search(index, corpus, text, limit=limit, context=context, doc_ids=doc_ids, themes=themes)
    if fmt == "json":
        emit_json(searching.result_to_dict(result))
    else:
        from searchdoc.render import render_result

        click.echo(render_result(result, app.style()))


@cli.command()
@click.argument("doc_id", metavar="ID")
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
    from searchdoc import documents
    from searchdoc.errors import UsageError

    corpus = app.corpus()
    view = documents.document_view(corpus, doc_id, app.settings)
    if paragraph is not None and paragraph > len(view.document.paragraphs):
        raise UsageError(
            f"{doc_id} has {len(view.document.paragraphs)} paragraphs; --paragraph {paragraph} is out of range"
        )
    if fmt == "json":
        emit_json(documents.view_to_dict(view, paragraph))
    else:
        from searchdoc.render import render_document

        paragraphs = [view.document.paragraph(paragraph)] if paragraph else view.document.paragraphs
        click.echo(render_document(view.document, view.label, paragraphs, view.themes, app.style(), view.url))


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
    for row in rows:
        click.echo(f"{row['id']:<24} {row['date'] or '':<10}  {row['paragraphs']:>4} par.  {row['label']}")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@click.option("--id", "doc_id", metavar="ID", help="Document id (default: the file name, e.g. kst-33694-45.txt).")
@click.option("--title", help="Title of the document.")
@click.option("--date", help="Date of the document, YYYY-MM-DD.")
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
    for document in documents:
        click.echo(f"ingested {document.id}: {len(document.paragraphs)} paragraphs, "
                   f"{len(document.footnotes)} footnotes")
    status(f"{len(documents)} document(s) stored in {corpus.root} in {time.monotonic() - started:.1f} s")


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

    corpus = app.corpus()
    index = app.index(corpus, fresh=False)
    started = time.monotonic()
    with progress_bar(total=len(corpus.ids()), desc="indexing", unit="doc") as advance:
        report = index.update(rebuild=rebuild, progress=advance, on_wait=status)
    elapsed = time.monotonic() - started
    if not report.changed:
        click.echo(f"index is up to date ({report.unchanged} documents)")
        return
    what = "rebuilt" if report.rebuilt else "updated"
    click.echo(
        f"index {what}: {len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
        f"{report.paragraphs} paragraphs indexed in {elapsed:.1f} s"
    )


@cli.command()
@click.argument("ref", metavar="REF")
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
    info = citegraph.lookup(ref, corpus, app.index(corpus))
    if fmt in ("ris", "csl-json"):
        from searchdoc import export

        document = corpus.load(info.id) if info.in_corpus else None
        click.echo(export.reference_record(info.id, document=document, fmt=fmt), nl=False)
        return
    if fmt == "json":
        emit_json(info.to_dict())
        return
    style = app.style()
    click.echo(style.bold(info.label) + f"  [{info.id}, {info.kind}]")
    click.echo(f"citation: {info.citation}")
    if info.url:
        click.echo(f"url:      {style.link(info.url, info.url)}")
    if info.resolved:
        click.echo(f"resolved to: {', '.join(info.resolved)}")
    if info.in_corpus:
        click.echo(f"in corpus: yes — {info.title or '(untitled)'}" + (f" ({info.date})" if info.date else ""))
    else:
        click.echo(f"in corpus: no (fetch it with 'searchdoc crawl {info.id}')")
    if not info.cited_by:
        click.echo("cited by: no paragraph in the corpus")
        return
    click.echo(f"cited by {len(info.cited_by)} paragraph{'s' if len(info.cited_by) != 1 else ''}:")
    for item in info.cited_by:
        note = f", footnote {item.footnote}" if item.footnote else ""
        click.echo(f"  {item.label}, par. {item.paragraph}{note} ({item.doc_id})")
        click.echo("    " + style.dim(item.context))


@cli.command()
@click.argument("source", metavar="ID|-")
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
        rows = citegraph.text_citations(sys.stdin.read())
    else:
        rows = citegraph.document_citations(app.corpus().load(source))
    if fmt == "json":
        emit_json([{k: row[k] for k in ("id", "raw", "paragraph", "footnote")} for row in rows])
        return
    if not rows:
        click.echo("no citations found")
        return
    for row in rows:
        where = []
        if row["paragraph"] is not None:
            where.append(f"par. {row['paragraph']}")
        if row["footnote"] is not None:
            where.append(f"footnote {row['footnote']}")
        click.echo(f"{row['id']:<24} {', '.join(where):<22} {row['raw']}")


@cli.group(invoke_without_command=True)
@click.option("--doc", "doc_id", metavar="ID", help="Count paragraphs of this document only.")
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
    from searchdoc import documents

    app: AppContext = ctx.obj
    corpus = app.corpus()
    rows = documents.theme_summary(app.index(corpus), corpus, doc_id)
    if fmt == "json":
        emit_json([{"id": r["id"], "label": r["label"], "count": r["count"]} for r in rows])
        return
    for row in rows:
        click.echo(f"{row['id']:<22} {row['count']:>6}  {row['label']} ({row['label_en']})")


@themes.command()
@click.argument("doc_id", metavar="ID")
@click.argument("paragraph", type=click.IntRange(min=1))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.pass_obj
def explain(app: AppContext, doc_id, paragraph, fmt):
    """Show which terms of paragraph PARAGRAPH of ID gave which theme.

    \b
    Example:
      searchdoc themes explain kst-33694-45 13
    """
    from searchdoc import documents

    data = documents.theme_evidence(app.corpus(), doc_id, paragraph, app.settings)
    if fmt == "json":
        emit_json(data)
        return
    style = app.style()
    click.echo(style.bold(f"{doc_id} ¶{paragraph}") + (f" — {data['section']}" if data["section"] else ""))
    click.echo(f"themes: {', '.join(data['themes']) or '(none)'} (threshold {data['threshold']:g})")
    by_theme: dict[str, list[dict]] = {}
    for item in data["evidence"]:
        by_theme.setdefault(item["theme"], []).append(item)
    for theme, items in by_theme.items():
        mark = "tagged" if theme in data["themes"] else "below threshold"
        click.echo(f"  {theme}: score {data['scores'].get(theme, 0):g} ({mark})")
        for item in items:
            where = "heading" if item["heading"] else f"chars {item['start']}-{item['end']}"
            click.echo(f"    +{item['weight']:g}  {item['text']!r} matched term {item['term']!r} ({where})")


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
    from searchdoc.errors import SearchdocError
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
            emit_json({**crawling.CrawlReport().to_dict(), "error": " ".join(str(exc).split())})
        raise
    if fmt == "json":
        emit_json(report.to_dict())
    else:
        click.echo(crawling.render_text(report))
    if not report.ok:
        ctx.exit(1)


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--format", "-f", "fmt", type=click.Choice(["md", "csv", "jsonl", "ris", "csl-json"]),
              help="md: readable report; csv: one row per hit; jsonl: one JSON object per hit; ris and csl-json: "
                   "one reference per document for Zotero, EndNote, Mendeley or Pandoc (default: from the "
                   "--output name).")
@click.option("--output", "-o", metavar="FILE", default="-", show_default=True,
              help="File to write, '-' for stdout; it appears only once the export is complete.")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=None, help="At most N hits (default: all).")
@click.option("--context", "-c", type=click.IntRange(min=0, max=50), default=0, show_default=True,
              help="Paragraphs of context before and after each hit (md, csv, jsonl).")
@click.option("--doc", "doc_ids", multiple=True, metavar="ID", help="Only search this document (repeatable).")
@click.option("--theme", "themes", multiple=True, metavar="ID",
              help="Only paragraphs with this theme (repeatable: all must apply).")
@click.option("--max-chars", type=click.IntRange(min=20), default=None, metavar="N",
              help="Keep at most N characters of each paragraph, around its first match; cuts are marked […].")
@click.option("--excel", is_flag=True, help="CSV for Microsoft Excel: start the file with a UTF-8 byte-order mark.")
@click.pass_obj
def export(app: AppContext, query, fmt, output, limit, context, doc_ids, themes, max_chars, excel):
    """Export every matching paragraph with its pinpoint citation: md, csv, jsonl, ris, csl-json.

    Same query language and filters as 'search'; all hits unless --limit. Snippets are the exact
    corpus text. The export streams, so any number of hits fits in memory.

    \b
    Examples:
      searchdoc export drones --format md -o drones.md
      searchdoc export "autonome wapensystemen" --format csv --excel -o laws.csv
      searchdoc export cyber* --theme cyber --format jsonl --max-chars 300
      searchdoc export drones --format ris -o drones.ris
    """
    from searchdoc import export as exporting
    from searchdoc import search as searching
    from searchdoc.errors import UsageError
    from searchdoc.progress import progress_bar

    fmt = fmt or exporting.format_for_path(output)
    if excel and fmt != "csv":
        raise UsageError("--excel only applies to --format csv")
    text = " ".join(query)
    corpus = app.corpus()
    index = app.index(corpus)
    hits = searching.stream_hits(index, corpus, text, limit=limit, context=context, doc_ids=doc_ids, themes=themes)
    info = exporting.ExportInfo(query=text, corpus=str(corpus.root), total=hits.total, doc_ids=list(doc_ids),
                                themes=list(themes))
    to_stdout = output == "-"
    if to_stdout:
        target = exporting.stream_output(sys.stdout, bom=excel)
    else:
        target = exporting.atomic_output(output, bom=excel)
    with target as stream, progress_bar(total=hits.total, desc="exporting", unit="hit") as advance:
        exporter = exporting.make_exporter(fmt, stream, info, max_chars=max_chars, corpus=corpus)
        count = exporting.export_hits(hits, exporter, progress=advance)
    if not to_stdout:
        status(f"exported {count} hit{'s' if count != 1 else ''} to {output}")


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
        click.echo(doctoring.render_text(report))
    if not report.healthy:
        ctx.exit(1)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    cli.main(args=argv, prog_name="searchdoc")
