"""The N+1 check for list and map endpoints, shared by every app's query-count tests.

`assert_flat` fetches once to warm the process caches (the locate index,
categories, translations), counts the queries of a second fetch against a
pinned ceiling, adds rows through the real services, and requires the third
fetch to show more rows for exactly the same number of queries.
"""

from __future__ import annotations


def assert_flat(django_assert_max_num_queries, django_assert_num_queries, *, fetch, grow,
                rows, most: int) -> int:
    """fetch() -> response, grow() adds rows, rows(response) -> how many it shows."""
    first = fetch()
    assert first.status_code == 200, first.content[:500]
    with django_assert_max_num_queries(most) as pinned:
        before = rows(fetch())
    assert before > 0, "start from a list that shows rows: an empty one skips its prefetches"
    grow()
    with django_assert_num_queries(len(pinned)):
        response = fetch()
    assert response.status_code == 200, response.content[:500]
    after = rows(response)
    assert after > before, f"the rows added do not show: {before} then {after}"
    return len(pinned)


def items(response) -> int:
    body = response.json()
    return len(body["items"] if isinstance(body, dict) else body)


def marked(marker: str):
    """rows(response) counting a marker each row of a page carries."""
    return lambda response: response.content.decode().count(marker)
