"""`dramatis chat --serve`: the chat app in a browser, one app process per page.

textual-serve starts an app process per page and, when the page closes, asks it to quit
and waits for it. An app still loading its model, or busy in a reply thread, does not
quit (its SIGTERM, too, only asks the app to exit), so the process lived on after its
page: 50-93% CPU and ~470 MB each. Here every app process runs in a session of its own;
when its page closes it gets QUIT_SECONDS to quit, then its whole process group is
killed. When the server stops, so does every app process it started.

The page's size reaches its app process in COLUMNS and ROWS, but every dramatis command
whose output is piped runs with COLUMNS=1000 (dramatis/core/output.py), and an app
process's output is a pipe to the server: the app drew 1000 columns into a page of about
140, and the page showed its wrapped rows, the input box three times and no transcript.
So the size also travels in PAGE_SIZE, which the chat app reads (`page_size`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from asyncio.subprocess import PIPE, Process

from textual_serve import server as textual_server
from textual_serve.app_service import AppService

QUIT_SECONDS = 3.0  # a page's app process that has not quit by then is killed
PAGE_SIZE = "DRAMATIS_PAGE_SIZE"  # "COLUMNSxROWS" of the page an app process draws in


def page_size() -> tuple[int, int] | None:
    """The size of the page this process draws in, when it is a page's app process."""
    columns, _, rows = os.environ.get(PAGE_SIZE, "").partition("x")
    if not (columns.isdigit() and rows.isdigit()):
        return None
    return int(columns), int(rows)


def end_group(pid: int) -> None:
    """Kill the process group `pid` leads (an app process and anything it started)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class PageApp(AppService):
    """textual-serve's app service (1.1.3, pinned), in its own session, ended for sure."""

    live: set[int] = set()  # process groups of the pages open now

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        return {**super()._build_environment(width, height), PAGE_SIZE: f"{width}x{height}"}

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        env = self._build_environment(width=width, height=height)
        process = await asyncio.create_subprocess_shell(
            self.command, stdin=PIPE, stdout=PIPE, stderr=PIPE, env=env, start_new_session=True
        )
        assert process.stdin is not None
        self._process, self._stdin = process, process.stdin
        self.live.add(process.pid)
        return process

    async def stop(self) -> None:
        """Ask the app to quit; after QUIT_SECONDS, or at once when cancelled, kill it."""
        try:
            await asyncio.wait_for(super().stop(), QUIT_SECONDS)
        except (TimeoutError, ConnectionError):
            pass
        finally:
            if self._process is not None:  # asyncio's child watcher reaps it
                end_group(self._process.pid)
                self.live.discard(self._process.pid)


def serve_pages(command: str, host: str, port: int, title: str) -> None:
    """Serve `command` to browsers at host:port until stopped; no app process outlives it."""
    textual_server.AppService = PageApp  # type: ignore[misc]  # the server makes one per page
    try:
        textual_server.Server(command, host=host, port=port, title=title).serve()
    finally:
        for pid in list(PageApp.live):
            end_group(pid)
