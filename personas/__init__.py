"""Play parsing, personas and casts: text -> Play -> Persona -> cast file.

>>> from dramatis.personas import load_play, build_persona
>>> build_persona(load_play("hamlet"), "Hamlet").first_scene
'1.2'
"""

from dramatis.personas.cast import Cast, find_persona, load_cast
from dramatis.personas.corpus import list_plays, list_texts, load_play, play_key, texts_dir
from dramatis.personas.model import Act, Character, Play, Scene, Speech
from dramatis.personas.parse import parse_play
from dramatis.personas.persona import Persona, build_persona

__all__ = [
    "Act",
    "Cast",
    "Character",
    "Persona",
    "Play",
    "Scene",
    "Speech",
    "build_persona",
    "find_persona",
    "list_plays",
    "list_texts",
    "load_cast",
    "load_play",
    "parse_play",
    "play_key",
    "texts_dir",
]
