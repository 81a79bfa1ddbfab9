"""A child process that runs one function at a time, killed at a wall-clock timeout and replaced
when it dies, so a hung or crashed call never holds its caller (a job worker or a request).

It is a one-process ``ProcessPoolExecutor`` (spawned: no fork of a threaded server) with a memory
limit and a CPU-time limit per call. When a call outlives its timeout the process is killed
(SIGKILL) and the next call starts a new one; when the process died (killed, out of memory,
over its CPU time) the pool is broken, and it is replaced the same way.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
START_SECONDS = 120.0  # for a new process to start and warm up (a loaded host is slow)


class ChildFailed(Exception):
    """The call did not finish: its process died, or it was killed at its timeout."""


class ChildTimeout(ChildFailed):
    """The call outlived its timeout; its process was killed."""


def _start_child(memory_mb: int, nice: int) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the parent stops the child itself,
    # rather than the child dying mid-call and leaving its queue's semaphores behind.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if nice:
        os.nice(nice)


def _limited_call(cpu_seconds: int, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    """In the child: at most ``cpu_seconds`` of CPU time for this call (the soft limit moves on
    with the process's use, so a long-lived process is not killed for the sum of its calls)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime)
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + cpu_seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    return fn(*args)


class ChildProcess:
    """Run functions in a child process, one call at a time (see the module's docstring)."""

    def __init__(
        self, *, memory_mb: int, cpu_seconds: int, name: str = "child", nice: int = 0
    ) -> None:
        """``nice``: how much lower the child's CPU priority is than its parent's (background
        work such as a PDF render yields the CPU to the pages people are waiting for)."""
        self.memory_mb, self.cpu_seconds, self.name = memory_mb, cpu_seconds, name
        self.nice = nice
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._calls = threading.Lock()  # one call at a time: a timeout kills only its own call
        self._guard = threading.Lock()
        self.started = 0  # how many processes were started (a replaced one counts again)
        # What a new process runs before its first call (``start``): its cost is not counted
        # in that call's timeout.
        self._warm: tuple[Callable[..., object], tuple[Any, ...]] | None = None
        self.warming = False

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._guard:
            fresh = self._executor is None
            if self._executor is None:
                self._executor = concurrent.futures.ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_child,
                    initargs=(self.memory_mb, self.nice),
                )
                self.started += 1
            executor = self._executor
        if fresh and self._warm is not None:
            fn, args = self._warm
            self.warming = True
            try:
                executor.submit(fn, *args).result(timeout=START_SECONDS)
            except Exception:
                log.exception("warming up the %s process failed", self.name)
            finally:
                self.warming = False
        return executor

    def pid(self) -> int | None:
        """The child's process id, once started (for tests and the logs)."""
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return next(iter(processes), None)

    def call(self, fn: Callable[..., T], *args: Any, timeout: float) -> T:
        """``fn(*args)`` in the child, within ``timeout`` seconds (after any earlier call, and after
        a new process has started and warmed up). Raises ChildTimeout (the child was killed) or ChildFailed (it died); the
        next call gets a new child."""
        if not self._calls.acquire(timeout=timeout + START_SECONDS):
            raise ChildTimeout(f"the {self.name} process stayed busy for {timeout} s")
        try:
            executor = self._pool()
            deadline = time.monotonic() + timeout
            try:
                future = executor.submit(_limited_call, self.cpu_seconds, fn, args)
                return future.result(timeout=max(0.0, deadline - time.monotonic()))
            except concurrent.futures.TimeoutError:
                log.error("the %s process ran past %s s: killed", self.name, timeout)
                self._discard(executor, kill=True)
                raise ChildTimeout(f"the {self.name} process ran past {timeout} s") from None
            except BrokenProcessPool as error:
                log.error("the %s process died; a new one will be started", self.name)
                self._discard(executor, kill=True)
                raise ChildFailed(f"the {self.name} process died") from error
        finally:
            self._calls.release()

    def start(self, fn: Callable[..., object] | None = None, *args: Any) -> None:
        """Start the process now and, with ``fn``, run ``fn(*args)`` in it (warming it up) from a
        thread of its own, so the caller does not wait."""

        if fn is not None:
            self._warm = (fn, args)

        def warm() -> None:
            with self._calls:
                self._pool()

        threading.Thread(target=warm, name=f"{self.name}-warm", daemon=True).start()

    def _discard(self, executor: concurrent.futures.ProcessPoolExecutor, *, kill: bool) -> None:
        with self._guard:
            if self._executor is executor:
                self._executor = None
        processes = list((getattr(executor, "_processes", None) or {}).values())
        if kill:
            for process in processes:
                if process.is_alive():
                    process.kill()
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(5)

    def shutdown(self, *, grace_seconds: float = 10.0) -> None:
        """Stop the child: a call in progress gets ``grace_seconds`` to finish (a warm-up gets none),
        then the process is terminated (then killed); it is joined."""
        with self._guard:
            executor, self._executor = self._executor, None
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        if self.warming:  # nothing of value in progress: no need to wait for it
            grace_seconds = 0.0
        deadline = time.monotonic() + grace_seconds
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning(
                    "the %s process did not stop in %s s; terminating it", self.name, grace_seconds
                )
                process.terminate()
                process.join(5)
                if process.is_alive():  # SIGTERM not honoured in time (a busy host): no survivor
                    process.kill()
                    process.join(5)
        executor.shutdown(wait=True)
