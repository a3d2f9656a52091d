"""Many model rows read or written at once: read with psycopg's own timestamp parser, written in one
statement with each column passed as one array (PostgreSQL's unnest).

Django loads every timestamptz through psycopg's pure-Python parser (its loader subclasses it to set
the time zone): 180,000 timestamps, a usage refresh's sessions, took ~1 s; psycopg's compiled loader
(same values, in the connection's UTC) reads them in a tenth of that. ``fetch`` runs a values_list
query with it.

Django's bulk_create and bulk_update prepare every value of every row through its field and write
a placeholder for each: a usage refresh's 10,000 session marks and 4,000 day rows spent ~1 s of
Python there, and bulk_update's CASE WHEN per row grows with the square of the batch. One array per
column is a short statement whatever the count, and a table's statement triggers run once.

For plain columns only (numbers, text, dates and times, booleans, foreign keys' ids): values are
sent as the model instance holds them (``attname``), as psycopg adapts them. Elsewhere than
PostgreSQL (the quick start's SQLite) Django's own bulk methods do the work.
"""
import psycopg
from django.db import connection

TIMESTAMPTZ = psycopg.adapters.get_loader(psycopg.adapters.types["timestamptz"].oid, psycopg.pq.Format.TEXT)


def fetch(queryset) -> list[tuple]:
    """The rows of ``queryset`` (a values_list of plain columns: no Django converter is applied), its
    timestamps read by psycopg's compiled loader on PostgreSQL."""
    if connection.vendor != "postgresql":
        return list(queryset)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", TIMESTAMPTZ)
        cursor.execute(sql, params)
        return cursor.fetchall()


def insert(objs: list, *, unique_fields: tuple[str, ...] = (), update_fields: tuple[str, ...] = ()) -> None:
    """Insert ``objs`` (instances of one model, primary key included only if set on the first);
    with ``unique_fields``, a row whose key exists has its ``update_fields`` set instead."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        conflicts = {"update_conflicts": True, "unique_fields": unique_fields, "update_fields": update_fields} \
            if unique_fields else {}
        model.objects.bulk_create(objs, batch_size=500, **conflicts)
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and getattr(objs[0], f.attname) is None)]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = (f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) "
           f"SELECT * FROM unnest({_arrays(fields)})")
    if unique_fields:
        key = ", ".join(connection.ops.quote_name(model._meta.get_field(name).column) for name in unique_fields)
        chosen = [model._meta.get_field(name).column for name in update_fields]
        sql += f" ON CONFLICT ({key}) DO UPDATE SET " + ", ".join(
            f"{connection.ops.quote_name(c)} = excluded.{connection.ops.quote_name(c)}" for c in chosen)
    with connection.cursor() as cursor:
        cursor.execute(sql, [[getattr(obj, f.attname) for obj in objs] for f in fields])


def update(objs: list, fields: tuple[str, ...]) -> None:
    """Set ``fields`` of the rows of ``objs`` (saved instances of one model) to the instances' values."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields, batch_size=500)
        return
    pk = model._meta.pk
    chosen = [model._meta.get_field(name) for name in fields]
    names = ", ".join(connection.ops.quote_name(f.column) for f in [pk, *chosen])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(model._meta.db_table)} t SET "
            + ", ".join(f"{connection.ops.quote_name(f.column)} = v.{connection.ops.quote_name(f.column)}"
                        for f in chosen)
            + f" FROM unnest({_arrays([pk, *chosen])}) AS v ({names})"
            + f" WHERE t.{connection.ops.quote_name(pk.column)} = v.{connection.ops.quote_name(pk.column)}",
            [[getattr(obj, f.attname) for obj in objs] for f in [pk, *chosen]])


def _arrays(fields) -> str:
    return ", ".join(f"%s::{f.cast_db_type(connection)}[]" for f in fields)
