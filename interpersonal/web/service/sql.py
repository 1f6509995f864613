"""Small SQL helpers of the service's read models."""

from __future__ import annotations

from typing import Any

from django.db.models import IntegerField, QuerySet, Subquery


class SubqueryCount(Subquery):
    """``(SELECT COUNT(*) FROM (subquery))``: the number of rows a correlated subquery finds (0 for none)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


def count_of(queryset: QuerySet[Any]) -> SubqueryCount:
    return SubqueryCount(queryset.order_by().values("pk"))
