"""How many rows a list has, at a cost that does not grow with the table: exact while the rows are
few, the planner's estimate once they are many (issue 23: an exact COUNT(*) over 10M accounting rows
cost more than the page it numbered).

``count_rows(rows, exact_up_to)`` counts at most ``exact_up_to`` + 1 rows (a LIMIT the database stops
at, through whatever index serves the filter); past that it asks PostgreSQL's planner how many rows
the query would return (EXPLAIN, no execution) and says the figure is an estimate. A filtered set that
is small (a customer's payments, one user's sessions) is therefore always counted exactly, and only a
long list is "about N". Both steps are one query, the database function ``row_count_estimated``
(audit migration 0006), so a list makes as many queries with ten rows as with ten million. On
another database (the quick start's SQLite, small) rows are counted.
"""
import json
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections

# The lists over tables of millions (payments, M-Pesa bodies, accounting sessions) count this far: a
# LIMIT 1,001 count stays cheap even when the filter matches one row in twenty (a common first name
# over a million payments read 170,000 rows to reach 10,001).
EXACT_UP_TO = 1_000


@dataclass(frozen=True)
class RowCount:
    value: int
    exact: bool

    @property
    def rounded(self) -> int:
        """An estimate to two significant figures (1,023,456 -> 1,000,000): the precision it has."""
        if self.exact or self.value < 100:
            return self.value
        scale = 10 ** (len(str(self.value)) - 2)
        return round(self.value / scale) * scale


def planner_estimate(rows) -> int | None:
    """The rows PostgreSQL's planner expects ``rows`` (a queryset) to return, from its statistics;
    None on another database or for a query that returns no rows at all."""
    connection = connections[rows.db]
    if connection.vendor != "postgresql":
        return None
    try:
        sql, params = rows.order_by().values("pk").query.get_compiler(rows.db).as_sql()
    except EmptyResultSet:  # pk__in=[]: nothing there to estimate
        return None
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


def count_up_to(rows, most: int) -> int:
    """min(the number of ``rows``, ``most`` + 1), reading no more than that many."""
    # Without the ordering the LIMIT subquery need not sort what it counts.
    return rows.order_by()[:most + 1].count()


def count_rows(rows, exact_up_to: int) -> RowCount:
    connection = connections[rows.db]
    if connection.vendor == "postgresql" and not rows.query.is_sliced:
        return _counted_in_the_database(rows, exact_up_to)
    counted = count_up_to(rows, exact_up_to)
    if counted <= exact_up_to:
        return RowCount(counted, exact=True)
    estimate = planner_estimate(rows)
    if estimate is None:  # not PostgreSQL: the quick start's small tables are counted
        return RowCount(rows.count(), exact=True)
    # The planner may guess low; at least as many as were counted are there.
    return RowCount(max(estimate, counted), exact=False)


def _counted_in_the_database(rows, exact_up_to: int) -> RowCount:
    """count_rows in one round trip: the query, its values inlined, handed to row_count_estimated."""
    connection = connections[rows.db]
    rows = rows.order_by()  # the count need not sort what it counts
    if not (rows.query.distinct or rows.query.group_by is not None or rows.query.combinator):
        rows = rows.values("pk")  # nothing but the rows' identity is needed
    try:
        sql, params = rows.query.get_compiler(rows.db).as_sql()
    except EmptyResultSet:  # pk__in=[]: nothing there
        return RowCount(0, exact=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT n, exact FROM row_count_estimated(%s, %s)",
                       [connection.ops.compose_sql(sql, params), exact_up_to])
        value, exact = cursor.fetchone()
    return RowCount(int(value), exact=exact)
