"""``column = ANY(%s)``: a filter on a list of values passed as one array parameter.

A search found in two steps (billing: the customers a name matches, then their payments) hands the
second query thousands of ids, and the usage rollup thousands of usernames and session ids.
``field__in=values`` writes one placeholder per value, and building and sending that SQL cost more
than the queries themselves (a name 5,776 customers share: ~100 ms of Python per query on this
machine under load; a refresh's 50,000 values: ~1 s). One array keeps the statement short and is
served by the column's index like IN. Elsewhere than PostgreSQL (the quick start's SQLite) it is the
plain IN.

Use: ``Q(AnyOf(F("customer_id"), ids))`` (a lookup used as an expression; combines with | and &), or
``field__any_of=values`` on the fields it is registered for (below).
"""
from django.db.models import Field, Lookup


@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)  # prepared by the column's field in as_sql (an F() is resolved only then)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if not self.rhs:
            return "1 = 0", list(lhs_params)
        field = self.lhs.output_field
        values = [field.get_prep_value(value) for value in self.rhs]
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::{field.cast_db_type(connection)}[])", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]
