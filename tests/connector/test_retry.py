"""The back-off rule of task retries."""

from __future__ import annotations

from connector.retry import backoff


def test_grows_exponentially_with_at_most_a_quarter_of_jitter() -> None:
    for retries, base in [(0, 2.0), (1, 4.0), (3, 16.0)]:
        for _ in range(50):
            assert base <= backoff(retries) <= base * 1.25


def test_is_capped_well_under_the_visibility_timeout() -> None:
    assert all(300.0 <= backoff(30) <= 375.0 for _ in range(50))
    assert all(600.0 <= backoff(30, first=5, cap=600) <= 750.0 for _ in range(50))


def test_never_shorter_than_the_providers_reset() -> None:
    assert all(10.0 <= backoff(0, retry_after=10.0) <= 10.5 for _ in range(50))
