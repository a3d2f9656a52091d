"""``column = ANY(%s)``: a filter on a list of ids passed as one array parameter.

A search found in two steps (billing: the customers a name matches, then their payments) hands the
second query thousands of ids. ``field__in=ids`` writes one placeholder per id, and building and
sending that SQL three times (count, estimate, page) cost more than the queries themselves (a
name 5,776 customers share: ~100 ms of Python per query on this machine under load). One array
keeps the statement short and is served by the column's index like IN. Elsewhere than PostgreSQL
(the quick start's SQLite) it is the plain IN.

Use: ``Q(AnyOf(F("customer_id"), ids))`` (a lookup used as an expression; combines with | and &).
"""
from django.db.models import Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if not self.rhs:
            return "1 = 0", list(lhs_params)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, self.rhs]
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", [*lhs_params, *self.rhs]
