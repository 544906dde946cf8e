"""Searches share the index across threads; a change racing a search raises, never corrupts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from spladekit import IndexBusyError, SparseIndex, SparseVector
from spladekit.index import sparse_index

from support.vectors import random_vectors

Hits = list[tuple[Any, float]]


@pytest.fixture(scope="module")
def documents() -> list[SparseVector]:
    return random_vectors(4000, 100, seed=21)


@pytest.fixture(scope="module")
def queries() -> list[SparseVector]:
    return random_vectors(16, 30, seed=22)


@pytest.fixture()
def index(documents: list[SparseVector]) -> SparseIndex:
    built = SparseIndex()
    built.add(list(range(len(documents))), documents)
    return built


def _paused(monkeypatch: pytest.MonkeyPatch, name: str) -> tuple[threading.Event, threading.Event]:
    """Make sparse_index.<name> stop (after being entered) until released; then run it."""
    real: Callable[..., Any] = getattr(sparse_index, name)
    entered, release = threading.Event(), threading.Event()

    def waiting(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(sparse_index, name, waiting)
    return entered, release


def test_threads_searching_at_once_get_the_single_thread_answers(
    index: SparseIndex, queries: list[SparseVector]
) -> None:
    expected = [index.search(q, 10) for q in queries]

    def run(round_: int) -> list[Hits]:
        order = queries[round_ % 4 :] + queries[: round_ % 4]
        got = [index.search(q, 10) for q in order]
        return got[-(round_ % 4) :] + got[: -(round_ % 4)] if round_ % 4 else got

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, range(16)))
    assert all(result == expected for result in results)
    with ThreadPoolExecutor(max_workers=3) as pool:
        batches = list(pool.map(lambda _: index.search_many(queries, 10), range(6)))
    assert all(batch == expected for batch in batches)


def test_a_change_while_a_search_runs_raises_and_changes_nothing(
    index: SparseIndex, queries: list[SparseVector], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = index.search(queries[0], 10)
    entered, release = _paused(monkeypatch, "accumulate")
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(index.search, queries[0], 10)
        assert entered.wait(10)
        with pytest.raises(IndexBusyError, match=r"add called while 1 search\(es\)"):
            index.add(["new"], [queries[0]])
        with pytest.raises(IndexBusyError, match="delete called while"):
            index.delete([before[0][0]])
        release.set()
        assert running.result(10) == before
    monkeypatch.undo()
    assert len(index) == 4000 and "new" not in index
    assert index.search(queries[0], 10) == before
    assert issubclass(IndexBusyError, RuntimeError)


def test_a_search_while_a_change_runs_raises(
    index: SparseIndex, queries: list[SparseVector], monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = _paused(monkeypatch, "build")
    with ThreadPoolExecutor(max_workers=1) as pool:
        adding = pool.submit(index.add, [99_999], [queries[1]])
        assert entered.wait(10)
        with pytest.raises(IndexBusyError, match="search started while add was changing"):
            index.search(queries[1], 5)
        with pytest.raises(IndexBusyError, match="search_many started while add"):
            index.search_many([queries[1]], 5)
        with pytest.raises(IndexBusyError, match="delete called while add"):
            index.delete([0])
        release.set()
        adding.result(10)
    assert index.search(queries[1], 1)[0][0] == 99_999


def test_racing_writers_and_readers_never_see_a_wrong_result(
    documents: list[SparseVector], queries: list[SparseVector]
) -> None:
    index = SparseIndex()
    index.add(list(range(3000)), documents[:3000])
    extra = documents[3000:3050]
    extra_ids = list(range(3000, 3050))
    without = [index.search(q, 10) for q in queries]
    index.add(extra_ids, extra)
    with_extra = [index.search(q, 10) for q in queries]
    index.delete(extra_ids)
    assert without != with_extra  # the two states really differ
    stop = time.monotonic() + 1.5
    counts = {"searches": 0, "search_busy": 0, "changes": 0, "change_busy": 0}
    wrong: list[Any] = []
    lock = threading.Lock()

    def read() -> None:
        while time.monotonic() < stop:
            for position, query in enumerate(queries):
                try:
                    hits = index.search(query, 10)
                except IndexBusyError:
                    key = "search_busy"
                else:
                    key = "searches"
                    if hits not in (without[position], with_extra[position]):
                        wrong.append(hits)
                with lock:
                    counts[key] += 1
                time.sleep(0.0005)  # leave the writer gaps (a busy index refuses changes)

    def write() -> None:
        present = False
        while time.monotonic() < stop:
            try:
                if present:
                    index.delete(extra_ids)
                else:
                    index.add(extra_ids, extra)
                present = not present
                counts["changes"] += 1
            except IndexBusyError:
                counts["change_busy"] += 1
            time.sleep(0.001)

    threads = [threading.Thread(target=read) for _ in range(2)] + [threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(counts)
    assert wrong == []
    assert counts["searches"] > 0 and counts["changes"] > 0
    assert counts["search_busy"] + counts["change_busy"] > 0  # the race really happened
