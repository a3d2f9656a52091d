"""What every report answers and how it is shown: a ``Table`` (columns, rows of plain values, the
chart drawn from some of its columns, totals) rendered as the page's chart + table, as CSV, as XLSX
and as the API's JSON, so all four hold exactly the same figures."""
import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.http import StreamingHttpResponse

from lib.csv_export import csv_lines
from lib.xlsx_export import xlsx_download
from siteconfig import time_zone

from .filters import ReportFilters

MB = Decimal(1_000_000)


def megabytes(octets) -> Decimal:
    """Bytes as the megabytes a page, its export and the API all show (one decimal)."""
    return (Decimal(octets or 0) / MB).quantize(Decimal("0.1"))


def hours(seconds) -> Decimal:
    return (Decimal(seconds or 0) / 3600).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "int"  # text, date, moment, hour, int, money, mb, tenths
    optional: bool = False  # left out on a phone's page (class "opt"), so the key columns fit its width

    @property
    def css(self) -> str:
        shown = "num" if self.numeric else "when" if self.kind == "date" else ""
        return " ".join(filter(None, [shown, "opt" if self.optional else ""]))

    @property
    def numeric(self) -> bool:
        return self.kind not in ("text", "date", "moment", "hour")


@dataclass(frozen=True)
class Chart:
    """Series are column keys; ``kind`` "time" draws lines over dates, "bars" one bar per row."""

    series: tuple[str, ...]
    kind: str = "time"
    unit: str = ""


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[tuple]
    chart: Chart | None = None
    totals: dict = field(default_factory=dict)  # label -> value, shown above the chart
    note: str = ""

    def header(self) -> list[str]:
        return [column.label for column in self.columns]

    def chart_data(self) -> dict | None:
        """What static/js/report-chart.js draws: x labels (dates as UTC midnight seconds, which the
        script shows as that calendar day) and one list of numbers per series."""
        if not self.chart or not self.rows:
            return None
        index = {column.key: i for i, column in enumerate(self.columns)}
        first = self.columns[0]
        zone = "Etc/UTC"
        if first.kind == "date":
            x = [calendar.timegm(row[0].timetuple()) for row in self.rows]
        elif first.kind == "moment":  # an aware time, shown in the business's zone
            x, zone = [int(row[0].timestamp()) for row in self.rows], str(time_zone.current())
        else:
            x = list(range(len(self.rows)))
        return {
            "kind": self.chart.kind if first.kind in ("date", "moment") else "bars", "zone": zone,
            "x": x,
            "labels": [str(row[0]) for row in self.rows],
            "unit": self.chart.unit,
            "series": [{"label": self.columns[index[key]].label,
                        "values": [None if row[index[key]] is None else float(row[index[key]]) for row in self.rows]}
                       for key in self.chart.series],
        }

    def as_json(self) -> dict:
        """The API's body: rows of plain numbers, amounts as decimal strings, days as ISO dates."""
        def plain(value):
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, (date, datetime)):
                return value.isoformat()
            return value
        return {"columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in self.columns],
                "rows": [dict(zip((c.key for c in self.columns), map(plain, row), strict=True)) for row in self.rows],
                "totals": {key: plain(value) for key, value in self.totals.items()}}


def download(table: Table, form: ReportFilters, name: str, kind: str):
    """The table as shown, as ``kind`` ("csv" or "xlsx"); the file is named after the report and range."""
    period = form.period
    filename = f"{name}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.{kind}"
    if kind == "xlsx":
        return xlsx_download(table.header(), table.rows, filename, sheet=table.title)
    response = StreamingHttpResponse(csv_lines(table.header(), table.rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@dataclass(frozen=True)
class Report:
    """One report: its URL name, title, groupings, which filters apply, and the function that reads
    its rollup for a valid filter form."""

    name: str
    title: str
    group_by: list[tuple[str, str]]
    filters: tuple[str, ...]
    build: Callable[[ReportFilters], Table]

    def form(self, data=None, today: date | None = None) -> ReportFilters:
        return ReportFilters(data, group_by=self.group_by, filters=self.filters, today=today)
