"""The /reports/ pages' figures: each module reads one rollup (never radacct or payments at request
time, except one user's sessions) and answers a ``frame.Table`` that pages, exports and the API share."""
