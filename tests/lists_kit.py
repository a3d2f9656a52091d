"""Shared checks for list pages."""


def assert_flat_queries(client, url: str, make_rows, queries: int, assert_num_queries) -> None:
    """``url`` lists 2 rows, then 40, in exactly ``queries`` queries each time: a row costs none.
    ``make_rows(numbers)`` adds the rows numbered so; each shows as one ``<tr>`` after the header."""
    for numbers, shown in ((range(2), 2), (range(2, 40), 40)):
        make_rows(numbers)
        with assert_num_queries(queries):
            assert client.get(url).content.decode().count("<tr") == 1 + shown
