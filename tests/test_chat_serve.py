"""`dramatis chat --serve` in a real browser: headless Chromium opens the page served
by textual-serve on loopback, a line typed there reaches the scene's checkpoints, and a
screenshot of the page is saved (tests/artifacts/chat_serve.png, for a person to look at).
What the page shows is checked on the terminal's screen as xterm.js holds it: the app
drawn once at the page's size, the typed line and the reply each in the transcript once."""

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from chromium import Browser, chromium_path, free_port

from dramatis.agents.scene_store import SceneStore
from dramatis.core.settings import Settings
from dramatis.prompt_cli import saved_turns
from dramatis.tui.cli import serve_command

ARTIFACT = Path(__file__).parent / "artifacts" / "chat_serve.png"


def test_serve_command_drops_the_serve_options():
    argv = ["chat", "--cast", "Hamlet", "--serve", "--port", "9000", "--seed=3"]
    assert serve_command(argv).endswith("-m dramatis chat --cast Hamlet --seed=3")


def wait_for_port(port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    import socket

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert proc.poll() is None, "the server exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def chat_turns(home: Path) -> list:
    """The newest chat's turns, read from its checkpoints without opening the chat: the
    page's app process is the scene's one writer, and holds its claim."""
    settings = Settings(home=home)
    store = SceneStore(settings.scenes_db)
    try:
        ids = [i for i in store.ids() if i.startswith("chat-")]
        return saved_turns(store, ids[-1]) if ids else []
    finally:
        store.close()


def transcript(screen: dict) -> str:
    """The chat transcript's text on the screen (the left box's rows), as one line."""
    rows = [line.split("│")[1] for line in screen["lines"] if line.startswith("│")]
    return " ".join(" ".join(rows).split())


async def use_in_browser(url: str, home: Path, shot: Path) -> tuple[list, dict | None]:
    async with Browser(shot.parent / "profile") as page:
        await page.catch_terminal()
        await page.call("Page.navigate", url=url)
        for _ in range(240):  # until the page shows the app's input box (or 2 minutes)
            await asyncio.sleep(0.5)
            screen = await page.screen()
            if screen and "Say something, or /help" in "\n".join(screen["lines"]):
                break
        await asyncio.sleep(2)  # the app process loads the model
        await page.call("Input.dispatchMouseEvent", type="mousePressed", x=300, y=600,
                        button="left", clickCount=1)  # fmt: skip
        await page.call("Input.dispatchMouseEvent", type="mouseReleased", x=300, y=600,
                        button="left", clickCount=1)  # fmt: skip
        turns: list = []
        for _ in range(3):  # until the app is up and takes the line
            await page.call("Input.insertText", text="Good morrow, Hamlet.")
            for kind in ("keyDown", "keyUp"):
                await page.call("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter",
                                windowsVirtualKeyCode=13, text="\r")  # fmt: skip
            for _ in range(60):  # a reply on one busy core can take a while
                await asyncio.sleep(1)
                turns = chat_turns(home)
                if len(turns) >= 2:
                    break
            if turns:
                break
        screen = await page.screen()
        if len(turns) >= 2:  # until the page shows the reply (or 20 s)
            reply = " ".join(turns[1]["text"].split())
            for _ in range(40):
                if screen and f"HAMLET: {reply}" in transcript(screen):
                    break
                await asyncio.sleep(0.5)
                screen = await page.screen()
        await page.screenshot(shot)
        return turns, screen


@pytest.mark.slow
@pytest.mark.skipif(chromium_path() is None, reason="needs chromium (apt-get install chromium)")
def test_serve_shows_the_app_in_a_browser(tmp_path):
    port = free_port()
    home = tmp_path / "home"
    env = {**os.environ, "DRAMATIS_HOME": str(home), "DRAMATIS_THREADS": "1"}
    cmd = [sys.executable, "-m", "dramatis", "chat", "--serve", "--port", str(port),
           "--cast", "Hamlet", "--max-tokens", "16"]  # fmt: skip
    log = (tmp_path / "server.log").open("wb")
    # Its own process group: textual-serve starts an app process per page, which
    # outlives the server unless the whole group is ended.
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)  # fmt: skip
    try:
        wait_for_port(port, server)
        url = f"http://127.0.0.1:{port}/"
        turns, screen = asyncio.run(use_in_browser(url, home, tmp_path / "p.png"))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        log.close()
    ARTIFACT.parent.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "p.png", ARTIFACT)
    shown_text = "\n".join(screen["lines"]) if screen else "no terminal"
    assert turns, f"the typed line was not saved; the page showed:\n{shown_text}"
    assert turns[0] == {**turns[0], "speaker": "You", "source": "human"}
    assert turns[0]["text"] == "Good morrow, Hamlet."
    assert len(turns) >= 2 and turns[1]["speaker"] == "Hamlet"  # the model answered
    # The page shows the app once, at the page's size (it drew 1000 columns into a page
    # of 142 once: the rows wrapped, the input box showed three times, no transcript).
    assert screen, "the page made no terminal"
    text = "\n".join(screen["lines"])
    assert "dramatis chat" in screen["lines"][0] and text.count("dramatis chat") == 1, text
    assert text.count("Say something, or /help") == 1, text
    shown, reply = transcript(screen), " ".join(turns[1]["text"].split())
    assert shown.count("YOU: Good morrow, Hamlet.") == 1, text
    assert reply and shown.count(f"HAMLET: {reply}") == 1, f"{reply!r} not shown once:\n{text}"
    from PIL import Image

    colours = Image.open(ARTIFACT).convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50  # a drawn app, not a blank or error page


# --- a closed page ends its app process --------------------------------------------


def app_processes(marker: str, server: int = 0) -> list[int]:
    """Live processes of the pages' app (their command line holds `marker`), not the
    server (its command has --serve, or its pid is `server`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or entry.name == str(server):
            continue
        try:
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # gone meanwhile
        if marker in line and "--serve" not in line:
            found.append(int(entry.name))
    return found


def gone_within(marker: str, seconds: float, server: int = 0) -> list[int]:
    """The app processes still there after waiting up to `seconds` for none."""
    end = time.monotonic() + seconds
    while (left := app_processes(marker, server)) and time.monotonic() < end:
        time.sleep(0.2)
    return left


async def open_page(port: int, close: str, marker: str, server: int = 0) -> bool:
    """Open the app's websocket as a page does and close it `close`: "at once", "while
    loading" (its app process started, nothing drawn yet) or "when up" (it drew).
    Whether an app process was there when the page closed."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30")
        if close == "while loading":
            for _ in range(100):
                if app_processes(marker, server):
                    break
                await asyncio.sleep(0.05)
        elif close == "when up":
            while (await ws.receive(timeout=120)).type != aiohttp.WSMsgType.BINARY:
                pass
        there = bool(app_processes(marker, server))
        await ws.close()
        return there


@pytest.mark.parametrize("close", ["while loading", "when up"])
def test_a_closed_page_ends_its_app_process(tmp_path, close):
    port = free_port()
    home = tmp_path / "home"
    env = {**os.environ, "DRAMATIS_THREADS": "1"}
    cmd = [sys.executable, "-m", "dramatis", "chat", "--serve", "--port", str(port),
           "--cast", "Hamlet", "--home", str(home), "--model", "smollm2"]  # fmt: skip
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    marker = str(home)
    try:
        wait_for_port(port, server)
        there = asyncio.run(open_page(port, close, marker))
        assert there
        assert gone_within(marker, 10) == [], f"app processes left after the page closed ({close})"
        assert server.poll() is None  # the server goes on serving other pages
        if close == "when up":  # the server stopping ends the pages still open
            asyncio.run(open_page(port, "while loading", marker))
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            assert gone_within(marker, 10) == []
    finally:
        with contextlib.suppress(ProcessLookupError):  # gone already: its group is empty
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=20)


async def first_row(port: int, width: int, height: int) -> str:
    """The first row the app draws for a page of width x height, as text."""
    import re

    import aiohttp

    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"http://127.0.0.1:{port}/ws?width={width}&height={height}")
        data = b""
        while b"\x1b[2;1H" not in data:  # the app's terminal output, up to its second row
            msg = await ws.receive(timeout=120)
            assert msg.type != aiohttp.WSMsgType.CLOSED, "the page's connection closed"
            data += msg.data if msg.type == aiohttp.WSMsgType.BINARY else b""
        await ws.close()
    row = data.split(b"\x1b[2;1H")[0].split(b"\x1b[1;1H")[-1].decode()
    return re.sub(r"\x1b\[[0-9;?$]*[A-Za-z]|\x1b\][^\x07]*\x07", "", row).rstrip("\n")


def test_a_page_app_draws_at_the_pages_size(tmp_path):
    """The app process of a page of 100 x 30 draws 100 columns. (Its output is piped to
    the server, and piped dramatis commands run with COLUMNS=1000: it drew 1000.)"""
    port = free_port()
    cmd = [sys.executable, "-m", "dramatis", "chat", "--serve", "--port", str(port),
           "--cast", "Hamlet", "--home", str(tmp_path / "home"), "--model", "smollm2"]  # fmt: skip
    server = subprocess.Popen(cmd, env={**os.environ, "DRAMATIS_THREADS": "1"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)  # fmt: skip
    try:
        wait_for_port(port, server)
        row = asyncio.run(first_row(port, 100, 30))
        assert "dramatis chat" in row and len(row) == 100, f"{len(row)} columns: {row!r}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=20)


STUBBORN = (  # an app process that never quits: it ignores SIGTERM and its stdin
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('__GANGLION__', flush=True); time.sleep(600)"
)


def test_an_app_process_that_ignores_quit_is_killed(tmp_path):
    """The app of a closed page that will not quit (busy, SIGTERM ignored) is killed
    after QUIT_SECONDS, and only it: the server goes on."""
    import shlex

    from dramatis.tui.browser import QUIT_SECONDS

    port = free_port()
    marker = f"stubborn-{port}"
    app = shlex.join([sys.executable, "-c", f"{STUBBORN}  # {marker}"])
    serve = f"from dramatis.tui.browser import serve_pages; serve_pages({app!r}, '127.0.0.1', {port}, 't')"
    server = subprocess.Popen([sys.executable, "-c", serve], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        wait_for_port(port, server)
        assert asyncio.run(open_page(port, "while loading", marker, server.pid))
        began = time.monotonic()
        assert gone_within(marker, QUIT_SECONDS + 10, server.pid) == []
        assert time.monotonic() - began < QUIT_SECONDS + 5 and server.poll() is None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=20)
