"""Held-out check on the serve path (docs/ecosystem.md): the hand-written Prospero card (its
own book and the world-info file its extensions.world links) served on the default model
in this process; prints the prompt the model got for the openai client's last request
of a multi-turn chat, and which entries each of seeds 1-6 drew.

Run:  python docs/heldout/serve_check.py HOME   (HOME: prospero_v2.json and
      the_isle.json imported, as docs/ecosystem.md shows)"""

import socket
import sys
import threading
import time
from pathlib import Path

import openai
import uvicorn

from dramatis.agents.catalog import open_model, parse_model
from dramatis.core.settings import Settings
from dramatis.serve import ServeState, create_app

home = Path(sys.argv[1])  # a state folder with the card and the world-info file imported
settings = Settings.load(home=home).ensure()
inner = open_model(parse_model(settings.model).name, settings, seed=7)


class Recording:
    def __init__(self, m):
        self.inner, self.prompts = m, []

    def __getattr__(self, k):
        return getattr(self.inner, k)

    def stream(self, prompt, sampling):
        self.prompts.append(prompt)
        return self.inner.stream(prompt, sampling)


model = Recording(inner)
state = ServeState(settings=settings, model=model)
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
server = uvicorn.Server(
    uvicorn.Config(create_app(state), host="127.0.0.1", port=port, log_level="warning")
)
threading.Thread(target=server.run, daemon=True).start()
while not server.started:
    time.sleep(0.1)
client = openai.OpenAI(
    base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=0, timeout=600
)
talk = [
    {"role": "system", "content": "The island, before Prospero's cell."},
    {"role": "user", "name": "Ferdinand", "content": "Sir, the storm broke our ship to pieces."},
]
first = client.chat.completions.create(model="card:prospero", messages=talk, max_tokens=16, seed=1)
reply = first.choices[0].message.content
print("REPLY 1:", reply)
talk += [
    {"role": "assistant", "content": reply},
    {
        "role": "user",
        "name": "Ferdinand",
        "content": "After the storm a monster called Caliban cursed me on the beach. Where is the spirit Ariel?",
    },
]
for seed in range(1, 7):
    model.prompts.clear()
    out = client.chat.completions.create(
        model="card:prospero", messages=talk, max_tokens=8, seed=seed
    )
    prompt = model.prompts[0]
    if seed == 1:
        print("PROMPT (seed 1):\n" + prompt)
        print("REPLY 2 (seed 1):", out.choices[0].message.content)
    print(
        f"seed {seed}: storm entry {'in' if 'not a hair' in prompt else 'out'}; pine (recursion) {'in' if 'cloven pine still' in prompt else 'out'}; Sycorax {'in' if 'banished from Algiers' in prompt else 'out'}"
    )
server.should_exit = True
