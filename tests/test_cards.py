"""Character Card V2/V3: reading, checking, round trips (JSON and PNG), persona mapping,
export of play personas, and one-line errors for broken cards (fuzzed with Hypothesis)."""

from __future__ import annotations

import base64
import copy
import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.prompts import CHAT_INSTRUCTION
from dramatis.agents.turn import make_turn
from dramatis.core.errors import DramatisError
from dramatis.personas import load_cast
from dramatis.personas.card_files import card_from_bytes, card_json, card_png, read_card
from dramatis.personas.card_store import CardStore, import_card
from dramatis.personas.cards import (
    card_persona,
    check_card,
    example_lines,
    fill_macros,
    greeting,
    persona_card,
    talkativeness,
    to_version,
)

FIXTURES = Path(__file__).parent / "fixtures" / "cards"
YORICK = FIXTURES / "yorick_v2.json"
BRIGID = FIXTURES / "brigid_v3.json"


def fixture(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def pillow_png(chunks: dict[str, str]) -> bytes:
    """A PNG written by Pillow alone (not our writer), with the given tEXt chunks."""
    info = PngImagePlugin.PngInfo()
    for key, text in chunks.items():
        info.add_text(key, text)
    out = io.BytesIO()
    Image.new("RGB", (8, 12), (90, 30, 40)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def b64(card: dict) -> str:
    return base64.b64encode(json.dumps(card).encode()).decode()


# --- round trips --------------------------------------------------------------------


@pytest.mark.parametrize("path, v3", [(YORICK, False), (BRIGID, True)])
def test_json_round_trip_keeps_every_field(tmp_path, path, v3):
    original = fixture(path)
    persona = card_persona(check_card(copy.deepcopy(original), "test"))
    again = json.loads(card_json(persona_card(persona, v3=v3)))
    assert again == original
    # the unknown keys are there by value, not just by name
    assert again["data"]["extensions"] == original["data"]["extensions"]


@pytest.mark.parametrize("path, v3", [(YORICK, False), (BRIGID, True)])
def test_png_round_trip_writes_both_chunks_and_reads_ccv3(tmp_path, path, v3):
    original = fixture(path)
    blob = card_png(original, pillow_png({}))
    with Image.open(io.BytesIO(blob)) as img:  # Pillow sees both chunks
        chara = json.loads(base64.b64decode(img.text["chara"]))
        ccv3 = json.loads(base64.b64decode(img.text["ccv3"]))
    assert chara["spec"] == "chara_card_v2" and ccv3["spec"] == "chara_card_v3"
    card = card_from_bytes(blob, "card.png")
    assert card == ccv3  # ccv3 is preferred
    assert to_version(card, v3) == original  # and gives back the original spec exactly


def test_png_prefers_ccv3_over_chara():
    v2, v3 = fixture(YORICK), fixture(BRIGID)
    blob = pillow_png({"chara": b64(v2), "ccv3": b64(v3)})
    assert card_from_bytes(blob, "x.png")["data"]["name"] == "Brigid"
    assert card_from_bytes(pillow_png({"chara": b64(v2)}), "x.png")["data"]["name"] == "Yorick"


def test_v1_card_reads_as_v2():
    card = check_card({"name": "Old", "first_mes": "Hello, {{user}}."}, "v1.json")
    assert card["spec"] == "chara_card_v2"
    assert card_persona(card, user="Hamlet").first_mes == "Hello, Hamlet."


# --- persona mapping -----------------------------------------------------------------


def test_persona_mapping_fills_macros_and_reads_fields():
    persona = card_persona(check_card(fixture(YORICK), "y"), user="Hamlet")
    assert persona.name == "Yorick" and persona.play == "card"
    assert "{{" not in persona.description and "young Hamlet" in persona.description
    assert persona.scenario.endswith("Hamlet has just dug Yorick up.")
    assert persona.first_mes.startswith(
        "*The skull grins up from the spade.* Well met again, Hamlet!"
    )
    assert (
        persona.alternate_greetings[0]
        == "Alas, poor Hamlet! I knew you, a boy of most excellent fancy."
    )
    assert persona.system_prompt == "{{original}} You voice Yorick, a talking skull. Stay playful."
    assert persona.post_history_instructions == "Keep Yorick's reply under three sentences."
    assert persona.tags == ["jester", "ghost", "comedy"]
    assert persona.talkativeness == 0.9
    assert persona.sample_lines == [
        "A fellow of infinite jest, sir, and most excellent fancy.",
        "Sad? I have no lips left to pout with.\nWhere be your gibes now, you ask? Buried, like the rest of me.",
    ]
    assert persona.lorebook is not None and len(persona.lorebook.entries) == 5
    assert persona.card().startswith("Yorick: Yorick was the king's jester")
    assert "Personality: merry" in persona.card()


def test_group_only_greetings_open_group_scenes_only():
    brigid = card_persona(check_card(fixture(BRIGID), "b"), user="all")
    assert greeting(brigid, group=True) == "Evening, all of you. Which of you owes me for oil?"
    assert greeting(brigid, group=False) == "Late again, all? The lamps won't wait for you."
    assert brigid.talkativeness == 0.2


def test_lore_from_the_card_reaches_the_persona():
    yorick = card_persona(check_card(fixture(YORICK), "y"))
    lore = yorick.lore_for(["We walk to Elsinore.", "The king would jest with thee."])
    assert lore.splitlines() == [
        "Yorick is a skull and cannot move on his own.",
        "Old King Hamlet laughed at every jest Yorick made.",
        "Elsinore is the royal castle of Denmark, windy and cold on its cliff.",
    ]
    assert yorick.lore_for(["Nothing here."]) == "Yorick is a skull and cannot move on his own."


def test_lorebook_macros_are_filled_and_the_card_keeps_them():
    card = fixture(YORICK)
    card["data"]["character_book"]["entries"].append(
        {
            "keys": ["{{user}}"],
            "content": "{{char}} taught {{user}} to ride.",
            "enabled": True,
            "insertion_order": 30,
            "extensions": {},
        }
    )
    yorick = card_persona(check_card(card, "y"), user="Hamlet")
    assert "Yorick taught Hamlet to ride." in yorick.lore_for(["Is that you, Hamlet?"])
    assert persona_card(yorick)["data"]["character_book"]["entries"][-1]["keys"] == ["{{user}}"]


# --- a card's own instructions in the chat prompt -----------------------------------


def chat_parts(persona, fmt: str = "chat") -> tuple[str, str]:
    """(system, user) messages of the persona's next prompt under FakeModel's template."""
    agent = CharacterAgent(
        persona,
        FakeModel(),
        cast=["Hamlet", persona.name],
        settings=AgentSettings(prompt_format=fmt),
    )
    said = [make_turn(0, "Hamlet", "Whose skull was this?", present=["Hamlet", persona.name])]
    prompt, used = agent.prompt(said, "A churchyard.")
    assert used == fmt
    if fmt != "chat":
        return "", prompt
    system, user = prompt.removeprefix("<|system|>\n").split("\n<|user|>\n")
    return system, user.removesuffix("\n<|assistant|>\n")


def with_instructions(system: str, post: str):
    card = fixture(YORICK)
    card["data"].update(system_prompt=system, post_history_instructions=post)
    return card_persona(check_card(card, "y"), user="Hamlet")


def test_card_system_prompt_and_post_history_lead_and_close_the_chat_prompt():
    yorick = card_persona(check_card(fixture(YORICK), "y"), user="Hamlet")
    system, user = chat_parts(yorick)
    assert system == (
        f"{CHAT_INSTRUCTION} You voice Yorick, a talking skull. Stay playful.\n"
        "Scene: A churchyard.\nOn stage: Hamlet, Yorick."
    )
    assert user.startswith("HAMLET: Whose skull was this?\n\nNow Yorick speaks.")
    assert user.endswith("\n\nKeep Yorick's reply under three sentences.")
    assert "What does Yorick say next" not in user  # the card's instruction replaces ours


def test_original_in_the_card_instructions_stands_for_ours():
    system, user = chat_parts(with_instructions("Be Yorick.", "{{original}} Be brief."))
    assert system.startswith("Be Yorick.\nScene: A churchyard.") and CHAT_INSTRUCTION not in system
    assert user.endswith("\n\nWhat does Yorick say next? Reply with the speech only. Be brief.")
    system, user = chat_parts(with_instructions("", ""))  # none: ours, as for play personas
    assert system.startswith(f"{CHAT_INSTRUCTION}\nScene:")
    assert user.endswith("\n\nWhat does Yorick say next? Reply with the speech only.")


@pytest.mark.parametrize("fmt", ["page", "script"])
def test_card_instructions_stay_out_of_page_and_script_prompts(fmt):
    _, prompt = chat_parts(card_persona(check_card(fixture(YORICK), "y"), user="Hamlet"), fmt)
    assert "talking skull" not in prompt and "three sentences" not in prompt
    assert "{{" not in prompt


@pytest.mark.parametrize(
    "text, out",
    [
        ("{{char}} greets {{user}}", "Yorick greets Hamlet"),
        ("{{ Char }} and {{USER}}", "Yorick and Hamlet"),
        ("<BOT> to <USER>", "Yorick to Hamlet"),
        ("{{random}} stays", "{{random}} stays"),
    ],
)
def test_fill_macros(text, out):
    assert fill_macros(text, "Yorick", "Hamlet") == out


def test_example_lines_take_only_the_characters_lines():
    text = "<START>\n{{user}}: hi\n{{char}}: one\n{{user}}: two\n<START>\n{{char}}: three\nfour"
    assert example_lines(text) == ["one", "three\nfour"]
    assert example_lines("") == []


@pytest.mark.parametrize(
    "ext, out",
    [
        ({"talkativeness": "0.8"}, 0.8),
        ({}, 0.5),
        ({"talkativeness": "x"}, 0.5),
        ({"talkativeness": 3}, 1.0),
    ],
)
def test_talkativeness(ext, out):
    assert talkativeness(ext) == out


# --- play personas out as cards ----------------------------------------------------


def test_play_persona_exports_as_valid_cards_and_comes_back():
    hamlet = load_cast().get("Hamlet")
    for v3 in (False, True):
        card = check_card(persona_card(hamlet, v3=v3), "export")
        assert card["spec"] == ("chara_card_v3" if v3 else "chara_card_v2")
        assert card["data"]["name"] == "Hamlet"
        assert card["data"]["mes_example"].startswith("<START>\n{{char}}: ")
        assert card_persona(card) == hamlet  # dramatis' own cards give the persona back
    if_v3 = persona_card(hamlet, v3=True)["data"]
    assert if_v3["group_only_greetings"] == []


def test_import_export_cli_path(tmp_path):
    store = CardStore(tmp_path / "home")
    png = tmp_path / "yorick.png"
    png.write_bytes(card_png(fixture(YORICK), pillow_png({})))
    persona = import_card(png, store)
    assert persona.name == "Yorick"
    assert store.card("yorick") == to_version(fixture(YORICK), v3=True)
    assert store.image("Yorick") == png.read_bytes()
    with pytest.raises(DramatisError, match="already imported.*--force"):
        import_card(png, store)
    assert read_card(png)["data"]["extensions"]["x_unknown_tool"]["nested"][2] == {"deep": "value"}


# --- broken cards: one line, no traceback ---------------------------------------------


def png_with_chunk(kind: bytes, body: bytes, *, length: int | None = None) -> bytes:
    """A minimal PNG (signature, IHDR, the given chunk, IEND) written by hand."""

    def chunk(k: bytes, b: bytes, n: int | None = None) -> bytes:
        return (
            struct.pack(">I", len(b) if n is None else n)
            + k
            + b
            + struct.pack(">I", zlib.crc32(k + b))
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(kind, body, length)
        + chunk(b"IEND", b"")
    )


BROKEN = {
    "bad base64": (png_with_chunk(b"tEXt", b"chara\0%%%not-base64%%%"), "not valid base64"),
    "bad JSON in PNG": (
        png_with_chunk(b"tEXt", b"chara\0" + base64.b64encode(b"{nope")),
        "not JSON",
    ),
    "bad JSON file": (b'{"spec": "chara_card_v2", "data": {', "not JSON"),
    "missing data": (b'{"spec": "chara_card_v2", "spec_version": "2.0"}', "field data is missing"),
    "missing name": (b'{"spec": "chara_card_v3", "data": {"description": "x"}}', "field data.name"),
    "wrong type": (
        b'{"spec": "chara_card_v2", "data": {"name": "A", "tags": "x"}}',
        "field data.tags",
    ),
    "wrong spec": (b'{"spec": "chara_card_v9", "data": {"name": "A"}}', "spec 'chara_card_v9'"),
    "not an object": (b"[1, 2]", "not an array"),
    "huge chunk": (png_with_chunk(b"tEXt", b"chara\0AAAA", length=2**31), "over the"),
    "truncated PNG": (pillow_png({"chara": b64(fixture(YORICK))})[:200], "truncated PNG"),
    "no card in PNG": (pillow_png({"Title": "just a picture"}), "has no character card"),
    "bad CRC": (png_with_chunk(b"tEXt", b"chara\0AAAA")[:-20] + b"\0" * 20, "PNG"),
    "not UTF-8": (b"\xff\xfe{\x00", "not UTF-8"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_cards_give_one_line_errors(tmp_path, name):
    blob, message = BROKEN[name]
    path = tmp_path / "card.bin"
    path.write_bytes(blob)
    with pytest.raises(DramatisError) as err:
        read_card(path)
    text = str(err.value)
    assert message in text and "\n" not in text and str(path) in text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_fuzz_random_bytes_never_raise_anything_but_dramatis_error(blob):
    try:
        card_from_bytes(blob, "fuzz")
    except DramatisError as err:
        assert "\n" not in str(err)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "name",
        "description",
        "tags",
        "alternate_greetings",
        "character_book",
        "extensions",
        "group_only_greetings",
        "mes_example",
        "first_mes",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["chara_card_v2", "chara_card_v3"]),
    st.dictionaries(FIELDS, JSONISH, max_size=6),
)
def test_fuzz_card_fields_read_or_fail_in_one_line(spec, data):
    card = {"spec": spec, "spec_version": "2.0", "data": data}
    for blob in (json.dumps(card).encode(), card_png_or_raw(card)):
        try:
            checked = card_from_bytes(blob, "fuzz")
        except DramatisError as err:
            assert "\n" not in str(err)
            continue
        try:
            persona = card_persona(checked)
        except DramatisError as err:  # e.g. a blank name
            assert "\n" not in str(err)
            continue
        assert persona_card(persona, v3=spec.endswith("v3")) == checked


def card_png_or_raw(card: dict) -> bytes:
    """The card as a PNG chunk, written by Pillow (so bad cards get in too)."""
    return pillow_png({"chara": b64(card)})


VALID_PNG = card_png(fixture(YORICK), pillow_png({}))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(VALID_PNG) - 1), st.integers(0, 255)), max_size=6),
    st.integers(8, len(VALID_PNG)),
)
def test_fuzz_damaged_png_cards(edits, keep):
    blob = bytearray(VALID_PNG[:keep])
    for pos, value in edits:
        if pos < len(blob):
            blob[pos] = value
    try:
        card_from_bytes(bytes(blob), "fuzz.png")
    except DramatisError as err:
        assert "\n" not in str(err)
