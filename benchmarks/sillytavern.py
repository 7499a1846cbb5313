"""SillyTavern talking to `dramatis serve`, in headless Chromium, with a screenshot.

Run:  python benchmarks/sillytavern.py --st PATH/TO/SillyTavern [--out sillytavern.png]
                                       [--model smollm2] [--message "..."]

Needs SillyTavern's source with its npm dependencies (in its folder: `npm ci --omit=dev
--ignore-scripts`; its source is the public GitHub repository SillyTavern/SillyTavern,
the packages come from the npm registry), node >= 18 and Debian's chromium. Nothing is
installed or downloaded here.

What it does, top to bottom: starts `dramatis serve` on loopback (a fresh home); starts
SillyTavern on loopback with a fresh data folder; puts Hamlet's card (exported by
`dramatis personas export`) among SillyTavern's characters; opens SillyTavern in headless
Chromium and sets, through its own settings controls, API *Chat Completion*, source
*Custom (OpenAI-compatible)*, the endpoint http://127.0.0.1:PORT/v1 and model `hamlet`,
and connects (after naming the user Horatio on SillyTavern's first-run welcome); opens the chat with Hamlet, sends --message, waits for the reply and saves
a screenshot. Prints the chat as SillyTavern shows it and what reached the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the project's DevTools driver (tests/chromium.py)

from chromium import Browser, chromium_path  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen, seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}: see its log")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise SystemExit(f"{what} did not listen on 127.0.0.1:{port} in {seconds:g} s")


# JavaScript run in SillyTavern's page (jQuery is its global `$`).
CONNECT = """(() => {
  $('#main_api').val('openai').trigger('change');
  $('#chat_completion_source').val('custom').trigger('change');
  $('#custom_api_url_text').val(%(url)s).trigger('input');
  $('#custom_model_id').val('hamlet').trigger('input');
  $('#api_button_openai').trigger('click');
  return 'asked';
})()"""
WELCOME = """(() => {
  const p = $('.popup:visible');
  if (!p.text().includes('Persona Name')) return '';
  p.find('textarea, input[type=text]').first().val('Horatio').trigger('input');
  const ok = p.find('.popup-button-ok:visible, .menu_button:visible')
    .filter((i, e) => /Save|OK/i.test($(e).text()));
  ok.first().trigger('click');
  return 'Horatio';
})()"""
SOURCE = "$('#main_api').val() + ' / ' + $('#chat_completion_source').val() + ' / ' + $('#custom_model_id').val()"
PICK = """(() => {
  const card = $('.character_select').filter((i, e) => $(e).find('.ch_name').text().trim() === 'Hamlet');
  card.first().trigger('click');
  return card.length;
})()"""
SEND = """(() => {
  $('#send_textarea').val(%(text)s).trigger('input');
  $('#send_but').trigger('click');
  return $('#chat .mes').length;
})()"""
CHAT = """JSON.stringify($('#chat .mes').map((i, e) => ({
  name: $(e).find('.name_text').first().text().trim(),
  user: $(e).attr('is_user'),
  text: $(e).find('.mes_text').first().text().trim(),
})).get())"""


async def run_page(st_url: str, dramatis_url: str, message: str, shot: Path) -> list[dict]:
    async with Browser(shot.parent / "chromium-profile", size=(1280, 900)) as page:

        async def js(expression: str) -> object:
            out = await page.call("Runtime.evaluate", expression=expression,
                                  returnByValue=True, awaitPromise=True)  # fmt: skip
            return out.get("result", {}).get("value")

        async def until(expression: str, seconds: float) -> object:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                value = await js(expression)
                if value:
                    return value
                await asyncio.sleep(1)
            return None

        await page.call("Page.navigate", url=st_url)
        if not await until("typeof $ === 'function' && $('#send_textarea').length > 0", 120):
            raise SystemExit("SillyTavern's page did not load in 120 s")
        # A first run asks for the user's persona name before it lists the characters.
        print(f"persona: {await until(WELCOME, 60) or 'not asked'}")
        await asyncio.sleep(3)
        await js(CONNECT % {"url": json.dumps(dramatis_url)})
        await asyncio.sleep(5)  # it asks the server for its models (GET /v1/models)
        print(f"SillyTavern's API / source / model: {await js(SOURCE)}")
        if not await until(PICK, 60):
            raise SystemExit("Hamlet is not among SillyTavern's characters")
        await asyncio.sleep(3)
        before = await js(SEND % {"text": json.dumps(message)})
        replied = f"$('#chat .mes').length >= {before} + 2 && $('#send_but').is(':visible')"
        await until(replied, 300)
        await asyncio.sleep(2)
        await page.screenshot(shot)
        return json.loads(str(await js(CHAT) or "[]"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--st", type=Path, required=True, help="SillyTavern's folder")
    parser.add_argument("--out", type=Path, default=Path("sillytavern.png"))
    parser.add_argument("--model", default="smollm2", help="dramatis serve --model")
    parser.add_argument("--message", default="My lord, I think I saw your father yesternight.")
    args = parser.parse_args()
    if chromium_path() is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    if not (args.st / "node_modules").is_dir():
        raise SystemExit(f"{args.st}: run `npm ci --omit=dev --ignore-scripts` there first")
    work = Path(tempfile.mkdtemp(prefix="dramatis-st-"))
    env = {**os.environ, "DRAMATIS_HOME": str(work / "home"), "DRAMATIS_THREADS": "1"}
    d_port, st_port = free_port(), free_port()
    served = subprocess.Popen(
        [sys.executable, "-m", "dramatis", "serve", "--port", str(d_port), "--model", args.model],
        env=env, stdout=(work / "dramatis.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    if not (args.st / "config.yaml").exists():
        shutil.copy(args.st / "default" / "config.yaml", args.st / "config.yaml")
    data = work / "st-data"
    tavern = subprocess.Popen(
        ["node", "server.js", "--port", str(st_port), "--listen", "false", "--disableCsrf",
         "--autorun", "false", "--dataRoot", str(data)],
        cwd=args.st, stdout=(work / "sillytavern.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_port(d_port, served, 180, "dramatis serve")
        wait_port(st_port, tavern, 180, "SillyTavern")
        characters = data / "default-user" / "characters"
        characters.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "dramatis", "personas", "export", "Hamlet", "--format", "png",
             "--out", str(characters / "Hamlet.png")],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        chat = asyncio.run(run_page(f"http://127.0.0.1:{st_port}/",
                                    f"http://127.0.0.1:{d_port}/v1", args.message,
                                    args.out.resolve()))  # fmt: skip
    finally:
        tavern.terminate()
        served.terminate()
        tavern.wait(timeout=30)
        served.wait(timeout=30)
    for turn in chat:
        print(f"{turn['name']}: {turn['text']}")
    print(f"screenshot: {args.out}; logs: {work}")
    if len(chat) < 2 or not chat[-1]["text"] or chat[-1]["user"] == "true":
        raise SystemExit("no reply from Hamlet reached SillyTavern's chat")


if __name__ == "__main__":
    main()
