"""Drive headless Chromium (Debian's package) over the DevTools protocol, for the
`--serve` check: open a page, read its text and its terminal's screen, save a screenshot.
Test-only."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import socket
import subprocess
from itertools import count
from pathlib import Path

import aiohttp


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# textual-serve's page keeps its xterm.js Terminal in a closure. Each xterm addon's
# activate(terminal) stores it as `this._terminal`; a setter of that name on
# Object.prototype, installed before the page's scripts run, sees the first store, keeps
# the Terminal as window.__xterm, and then puts the property on the addon as usual.
CATCH_XTERM = """
Object.defineProperty(Object.prototype, "_terminal", {
  configurable: true,
  get() { return undefined; },
  set(value) {
    if (!window.__xterm && value && value.buffer && value.buffer.active) window.__xterm = value;
    Object.defineProperty(this, "_terminal", {value, writable: true, configurable: true, enumerable: true});
  },
});
"""

SCREEN = """(() => {
  const t = window.__xterm;
  if (!t) return null;
  const b = t.buffer.active, lines = [];
  for (let i = 0; i < t.rows; i++) lines.push(b.getLine(b.viewportY + i).translateToString(true));
  return JSON.stringify({cols: t.cols, rows: t.rows, lines});
})()"""


class Browser:
    """One headless Chromium with one page, closed on exit."""

    def __init__(self, profile: Path, size: tuple[int, int] = (1280, 800)) -> None:
        self.port = free_port()
        exe = chromium_path()
        assert exe, "chromium is not installed (apt-get install -y chromium)"
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
             f"--remote-debugging-port={self.port}", "--remote-debugging-address=127.0.0.1",
             f"--window-size={size[0]},{size[1]}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.ids = count(1)

    async def __aenter__(self) -> Browser:
        self.http = aiohttp.ClientSession()
        for _ in range(100):
            try:
                async with self.http.get(f"http://127.0.0.1:{self.port}/json/list") as r:
                    pages = [t for t in await r.json() if t["type"] == "page"]
                if pages:
                    break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        self.ws = await self.http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()
        await self.http.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)

    async def call(self, method: str, **params: object) -> dict:
        ident = next(self.ids)
        await self.ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            msg = json.loads((await self.ws.receive()).data)
            if msg.get("id") == ident:
                return msg.get("result", {})

    async def text(self) -> str:
        out = await self.call("Runtime.evaluate", expression="document.body.innerText")
        return str(out.get("result", {}).get("value", ""))

    async def catch_terminal(self) -> None:
        """Before navigating: keep the next page's xterm.js Terminal, for `screen`."""
        await self.call("Page.enable")
        await self.call("Page.addScriptToEvaluateOnNewDocument", source=CATCH_XTERM)

    async def screen(self) -> dict | None:
        """The terminal's screen as xterm.js holds it (what the page draws): cols, rows and
        one string per row; None before the page made its terminal."""
        out = await self.call("Runtime.evaluate", expression=SCREEN)
        value = out.get("result", {}).get("value")
        return json.loads(value) if value else None

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
