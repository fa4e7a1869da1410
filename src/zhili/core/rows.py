"""Model instances from rows a hot path read itself (raw SQL or a join).

`Model.from_db(db, names, values)` with fewer values than the model has
fields takes the values in the model's field order, whatever order `names`
lists them in. `instance_from_row` takes a mapping, so a caller cannot get
that order wrong. Fields left out are deferred: they load on first use.
"""

from __future__ import annotations


def instance_from_row(model, row: dict):
    """An instance of `model` as if loaded with only `row`'s fields (attnames)."""
    fields = [f.attname for f in model._meta.concrete_fields if f.attname in row]
    if len(fields) != len(row):
        unknown = sorted(set(row) - set(fields))
        raise ValueError(f"{model.__name__} has no fields {unknown}")
    return model.from_db(model.objects.db, fields, [row[name] for name in fields])
