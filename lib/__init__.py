"""Mechanisms every app shares and no app owns: live events, field encryption, rate limits and the
cache they fall back from, the client address, paging, input checks, CSV, numbers, API error shapes.
It imports no app; config/ (wiring) and every app sit above it."""
