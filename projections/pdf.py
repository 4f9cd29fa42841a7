"""The compliance report as a court-exhibit PDF.

The first page identifies the report the way a court will cite it: the as-of instant, the log
checkpoint it was computed at (tree size and root hash) and the terms applied. Then the tables
(the same ones as the CSV and HTML forms, from projections/render.py), the charts (the same
shapes as the dashboard's, from projections/charts.py), and the definitions and terms as
appendices. Nothing is recomputed: every number comes from the report's JSON form.

The document is reproducible: the same report gives the same bytes (reportlab's invariant mode:
no random document id; the creation date is the as-of instant, not the time of rendering), and
its fonts are embedded (Bitstream Vera, shipped with reportlab), so it prints the same anywhere.

Any report lays out, whatever its keys (a table cell taller than a page was a LayoutError, and a
500, with 40 border sectors of 60 characters): a label longer than LABEL_LIMIT is cut in the
tables, marked [n], and printed whole in an appendix (paragraphs, which break across pages); a
long label wraps, breaking inside a word if it must; tables are set side by side only when every
cell fits on one line; characters one cannot see are printed as [U+XXXX]. Vera has Latin, Greek
and Cyrillic glyphs only: other scripts print as empty boxes here, and whole in the JSON and CSV.
"""

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.graphics.shapes import Drawing, Group, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from domain.visible_text import revealed
from projections.chart_shapes import Box, Chart, Label, Rule
from projections.charts import report_charts
from projections.labels import label, labelled_definitions
from projections.labels import witnessed_text
from projections.render import CHARTS_AFTER, tables

CASE = "Ms. L. v. U.S. Immigration and Customs Enforcement, No. 18-cv-00428 (S.D. Cal.)"
MARGIN = 0.9 * inch
CONTENT_WIDTH = LETTER[0] - 2 * MARGIN
LABEL_LIMIT = 60  # characters of a label a table shows; a longer one is cut and printed whole in an appendix
CELL_PADDING = 12  # points: a cell's left and right padding together (reportlab's default, 6 + 6)
_FONTS = Path(reportlab.__file__).parent / "fonts"


def _register_fonts() -> None:
    if "Vera" in pdfmetrics.getRegisteredFontNames():
        return
    for name, file in (("Vera", "Vera.ttf"), ("Vera-Bold", "VeraBd.ttf"), ("Vera-Italic", "VeraIt.ttf"), ("Vera-BoldItalic", "VeraBI.ttf")):
        pdfmetrics.registerFont(TTFont(name, str(_FONTS / file)))
    pdfmetrics.registerFontFamily("Vera", normal="Vera", bold="Vera-Bold", italic="Vera-Italic", boldItalic="Vera-BoldItalic")


_register_fonts()
_BODY = ParagraphStyle("body", fontName="Vera", fontSize=9.5, leading=13, alignment=TA_LEFT, spaceAfter=6)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=8, leading=10.5, textColor=colors.HexColor("#333333"))
_CAPTION = ParagraphStyle("caption", parent=_SMALL, fontName="Vera-Italic", spaceBefore=2, spaceAfter=10)
_CASE = ParagraphStyle("case", parent=_BODY, fontSize=9, textColor=colors.HexColor("#333333"), spaceAfter=2)
_TITLE = ParagraphStyle("title", parent=_BODY, fontName="Vera-Bold", fontSize=18, leading=22, spaceBefore=4, spaceAfter=12)
_H1 = ParagraphStyle("h1", parent=_BODY, fontName="Vera-Bold", fontSize=13, leading=17, spaceBefore=8, spaceAfter=6)
_H2 = ParagraphStyle("h2", parent=_BODY, fontName="Vera-Bold", fontSize=10.5, leading=14, spaceBefore=8, spaceAfter=4)
_CELL = ParagraphStyle("cell", parent=_BODY, fontSize=8.5, leading=11, spaceAfter=0)
_CELL_ANYWHERE = ParagraphStyle("cell-anywhere", parent=_CELL, wordWrap="CJK")  # may break inside a word
_LABEL_IN_FULL = ParagraphStyle("label-in-full", parent=_SMALL, wordWrap="CJK", spaceAfter=4)
_CELL_BOLD = ParagraphStyle("cell-bold", parent=_CELL, fontName="Vera-Bold")
_HEADER = ParagraphStyle("header", parent=_CELL_BOLD, fontSize=8, leading=10)
_HASH = ParagraphStyle("hash", parent=_CELL, fontSize=7.5)  # 64 hex digits on one line, for copying
_GRID = colors.HexColor("#8c8c8c")
_SHADE = colors.HexColor("#eef2f6")


def render_pdf(report: Mapping[str, Any], definitions: Mapping[str, str]) -> bytes:
    buffer = io.BytesIO()
    title = f"Settlement compliance report as of {report['as_of']}"
    document = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="Settlement compliance ledger",
        subject=CASE,
        creator="settlement-ledger",
        invariant=1,
    )
    story: list[Any] = [*_first_page(report), PageBreak()]
    sections = list(tables(report))[1:]  # the first, the report's identification, is on the first page
    charts = {chart.key: chart for chart in report_charts(report)}
    story.append(Paragraph("The numbers", _H1))
    cut: list[str] = []  # the labels cut in the tables, in the order of their marks
    for table in sections:
        story.append(CondPageBreak(1.4 * inch))  # a heading never ends a page alone
        story.append(Paragraph(escape(table.title.capitalize()), _H2))
        story += _long_table(table.header, [[_label(row[0], cut), *row[1:]] for row in table.rows])
        if table.key in CHARTS_AFTER:
            story.append(_chart(charts[CHARTS_AFTER[table.key]]))
    story += [PageBreak(), Paragraph("Appendix A. Definitions", _H1)]
    story.append(Paragraph("Every number in this report is defined below, by the words its tables use.", _BODY))
    for name, text in labelled_definitions(definitions).items():
        story.append(KeepTogether([Paragraph(escape(name.capitalize()), _H2), Paragraph(escape(text), _BODY)]))
    story += [CondPageBreak(2 * inch), Paragraph("Appendix B. Terms applied", _H1), *_terms(report["terms"])]
    if cut:
        story += [
            CondPageBreak(2 * inch),
            Paragraph("Appendix C. Labels in full", _H1),
            Paragraph(f"Labels longer than {LABEL_LIMIT} characters are cut in the tables above and marked [n]; here they are whole.", _BODY),
            *(Paragraph(escape(f"[{n}] {revealed(label)}"), _LABEL_IN_FULL) for n, label in enumerate(cut, start=1)),
        ]

    def footer(canvas: Canvas, page: int, pages: int) -> None:
        canvas.setFont("Vera", 7.5)
        canvas.setFillColor(colors.HexColor("#333333"))
        checkpoint = report["checkpoint"]
        canvas.drawString(
            MARGIN,
            0.5 * inch,
            f"Compliance report as of {report['as_of']} - tree size {checkpoint['tree_size']:,}, root {checkpoint['root_hash'][:16]}...",
        )
        canvas.drawRightString(LETTER[0] - MARGIN, 0.5 * inch, f"Page {page} of {pages}")

    document.build(story, canvasmaker=_numbered_canvas(footer, report["as_of"]))
    return buffer.getvalue()


def _first_page(report: Mapping[str, Any]) -> list[Any]:
    checkpoint, terms = report["checkpoint"], report["terms"]
    extensions = len(terms.get("extensions", []))
    applied = (
        f"{report['terms_version']} (effective {terms['effective_date']}"
        + (f", with {extensions} court-ordered extension{'s' if extensions != 1 else ''}" if extensions else "")
        + ")"
        if report["terms_version"]
        else "none: no terms had been adopted by this point"
    )
    if terms["what_if"]:
        applied += ": WHAT-IF TERMS, not the terms in force; nothing was recorded"
    identification = [
        ("As of", report["as_of"]),
        ("Log checkpoint: tree size", f"{checkpoint['tree_size']:,}"),
        ("Log checkpoint: root hash", checkpoint["root_hash"]),
        ("Witnessed", witnessed_text(report)),
        ("Terms version", applied),
    ]
    children, families = report["children"], report["families"]
    headline = [
        ("Children identified", children["identified"]),
        ("Children reunified", children["reunified"]),
        ("Children remaining", children["remaining"]),
        *((f"  remaining: {label(status)}", n) for status, n in children["remaining_by_status"].items()),
        ("Families identified", families["identified"]),
        ("Families registered", families["registered"]),
        ("Families reunified", families["reunified"]),
    ]
    return [
        Paragraph(escape(CASE), _CASE),
        Paragraph("Settlement compliance report", _TITLE),
        _key_values(identification, widths=(1.9 * inch, CONTENT_WIDTH - 1.9 * inch)),
        Spacer(1, 10),
        Paragraph(
            "This report counts only what the ledger had recorded by the as-of instant; asking the ledger for "
            "the same as-of point at any later time gives the same numbers. The checkpoint identifies the "
            f"{checkpoint['tree_size']:,} log entries it was computed from: its root hash can be checked against "
            "a checkpoint signed by the ledger (GET /v1/checkpoint?tree_size=N), and any entry against it with an "
            "inclusion proof. Obligation deadlines are read on the as-of date under the terms named above "
            "(Appendix B). Every number is defined in Appendix A. Case ids are pseudonymous; the report holds "
            "no personal data.",
            _BODY,
        ),
        Spacer(1, 6),
        Paragraph("Summary", _H2),
        _table(["measure", "count"], headline),
    ]


def _key_values(pairs: Sequence[tuple[str, Any]], widths: tuple[float, float]) -> Table:
    rows = [
        [Paragraph(escape(key), _CELL_BOLD), Paragraph(escape(str(value)), _HASH if key.endswith("root hash") else _CELL)]
        for key, value in pairs
    ]
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, _GRID),
                ("BACKGROUND", (0, 0), (0, -1), _SHADE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _label(value: Any, cut: list[str]) -> Any:
    """A row's label as a table shows it: whole, or cut and marked [n] (`cut` collects the whole ones)."""
    if not isinstance(value, str) or len(value) <= LABEL_LIMIT:
        return value
    if value not in cut:
        cut.append(value)
    return f"{revealed(value)[: LABEL_LIMIT - 10]}… [{cut.index(value) + 1}]"


def _shown(value: Any) -> str:
    """A cell's text as printed."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return revealed(str(value))


def _fits_on_one_line(text: str, width: float) -> bool:
    return pdfmetrics.stringWidth(text, "Vera", _CELL.fontSize) <= width - CELL_PADDING


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float] | None = None) -> Table:
    if widths is None:
        first = min(2.6 * inch, CONTENT_WIDTH - 0.85 * inch * (len(header) - 1))
        widths = [first] + [min(0.85 * inch, (CONTENT_WIDTH - first) / max(1, len(header) - 1))] * (len(header) - 1)

    def cell(value: Any, width: float) -> Any:
        text = _shown(value)
        if _fits_on_one_line(text, width):
            return text
        # Wrapped at spaces; inside a word only where one word is wider than the column.
        words_fit = all(_fits_on_one_line(word, width) for word in text.split())
        return Paragraph(escape(text), _CELL if words_fit else _CELL_ANYWHERE)

    data = [[Paragraph(escape(str(name)), _HEADER) for name in header]]
    data += [[cell(value, width) for value, width in zip(row, widths, strict=True)] for row in rows]
    numeric = [i for i in range(1, len(header)) if all(isinstance(row[i], (int, float)) or row[i] in (None, "") for row in rows)]
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    style = [
        ("FONT", (0, 0), (-1, -1), "Vera", 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), _SHADE),
        ("GRID", (0, 0), (-1, -1), 0.5, _GRID),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    style += [("ALIGN", (i, 0), (i, -1), "RIGHT") for i in numeric]
    table.setStyle(TableStyle(style))
    return table


def _long_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[Any]:
    """A narrow table of many rows (months, say) set in two or three columns side by side, if each
    of its cells fits on one line there: a block of them is one flowable that cannot break, and 40
    rows of wrapped labels were taller than a page. Otherwise one table, which breaks between rows."""
    if len(rows) <= 24 or len(header) > 3:
        return [_table(header, rows)]
    columns = 3 if len(header) == 2 else 2
    width = CONTENT_WIDTH / columns
    inner = [width - 0.2 * inch - 0.8 * inch * (len(header) - 1)] + [0.8 * inch] * (len(header) - 1)
    if not all(_fits_on_one_line(_shown(value), w) for row in rows for value, w in zip(row, inner, strict=True)):
        return [_table(header, rows)]
    per_column = min(40, math.ceil(len(rows) / columns))
    blocks = []
    for start in range(0, len(rows), per_column * columns):
        chunk = rows[start : start + per_column * columns]
        parts = [_table(header, chunk[i : i + per_column], inner) for i in range(0, len(chunk), per_column)]
        block = Table([parts], colWidths=[width] * len(parts), hAlign="LEFT")
        block.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        blocks.append(block)
    return blocks


def _chart(chart: Chart) -> KeepTogether:
    return KeepTogether(
        [
            Spacer(1, 6),
            Paragraph(escape(f"Figure: {chart.title}"), _H2),
            drawing(chart, CONTENT_WIDTH),
            Paragraph(escape(chart.summary), _CAPTION),
        ]
    )


def drawing(chart: Chart, width: float) -> Drawing:
    """The chart's shapes as a reportlab drawing `width` points wide (SVG's y axis points down)."""
    scale = width / chart.width
    group = Group(transform=(scale, 0, 0, scale, 0, 0))
    height = chart.height
    for shape in chart.shapes:
        if isinstance(shape, Box):
            group.add(
                Rect(
                    shape.x,
                    height - shape.y - shape.height,
                    shape.width,
                    shape.height,
                    fillColor=colors.HexColor(shape.fill),
                    strokeColor=colors.HexColor(shape.stroke) if shape.stroke else None,
                    strokeWidth=0.6,
                )
            )
        elif isinstance(shape, Rule):
            group.add(Line(shape.x1, height - shape.y1, shape.x2, height - shape.y2, strokeColor=colors.HexColor(shape.stroke), strokeWidth=0.6))
        elif isinstance(shape, Label):
            group.add(
                String(
                    shape.x,
                    height - shape.y,
                    shape.text,
                    fontName="Vera-Bold" if shape.bold else "Vera",
                    fontSize=shape.size * 0.92,  # Vera runs wider than the browser's sans-serif
                    fillColor=colors.HexColor(shape.fill),
                    textAnchor=shape.anchor,
                )
            )
    figure = Drawing(width, height * scale)
    figure.add(group)
    return figure


def _terms(terms: Mapping[str, Any]) -> list[Any]:
    if not terms["terms_version"]:
        return [Paragraph("No terms had been adopted by the as-of point.", _BODY)]

    def span(value: Mapping[str, int]) -> str:
        return ", ".join(f"{n} {unit if n != 1 else unit[:-1]}" for unit, n in value.items()) or "0 days"

    flowables: list[Any] = [
        Paragraph(
            escape(
                f"Terms version {terms['terms_version']}, effective {terms['effective_date']}"
                + (" (what-if terms given with the request: not the terms in force)." if terms["what_if"] else ".")
            ),
            _BODY,
        ),
        _table(
            ["obligation", "duration"],
            [[label(name), span(value)] for name, value in terms["obligations"].items()],
            widths=[2.6 * inch, 1.6 * inch],
        ),
    ]
    if terms.get("extensions"):
        flowables += [
            Paragraph("Court-ordered extensions", _H2),
            _table(
                ["obligation", "extension", "effective", "order"],
                [
                    [label(e["obligation"]), span(e["extension"]), e["effective_date"], e["court_order_id"]]
                    for e in terms["extensions"]
                ],
                widths=[1.7 * inch, 0.9 * inch, 0.9 * inch, CONTENT_WIDTH - 3.5 * inch],
            ),
        ]
    return flowables


def _numbered_canvas(footer: Any, as_of: str) -> type[Canvas]:
    """A canvas that holds its pages until the end, so each footer can say "page n of N"."""
    # PDF date of the as-of instant: D:YYYYMMDDHHmmSS+00'00'
    created = "D:" + as_of[:19].replace("-", "").replace("T", "").replace(":", "") + "+00'00'"

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **{**kwargs, "initialFontName": "Vera"})
            self.setDateFormatter(lambda *_: created)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                footer(self, number, len(self._pages))
                super().showPage()
            super().save()

    return NumberedCanvas
