"""Reference speech counts for seven plays, from a public edition other than ours.

Run: python tests/data/gold/reference_counts.py FOLDER > personas/data/gold/reference_counts.json

FOLDER holds the per-play JSON files of the public "shakespeare.json" line dataset (the
MIT Moby text as split into lines by Elastic's sample data set; one row per line with
play_name, speech_number and speaker), as stored in github.com/cressid/Shakespeare at
commit 00bf638c2287f7549821781f4a48f15bb8a02538 ("Henry IV.json" and so on). A speech is
a run of rows with the same speaker and speech_number.

The reference names speakers its own way ("GLOUCESTER" and "KING RICHARD III" for one
man, "PRINCE HENRY" for Hal). Every capitalised name is mapped to the name dramatis gives
the person by the hand table NAMES below; a capitalised name missing from it stops the
script, so none is counted unread. Generic roles the reference writes in title case
("First Carrier", "Messenger") are kept as written. "-" marks a row the data set credits
to a speaker of another play (its own slips: "PRINCE FORTINBRAS" in Henry V): left out.
This file imports nothing from dramatis on purpose.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

SOURCE = {
    "name": "shakespeare.json line data set (MIT Moby text), per-play files",
    "url": "https://github.com/cressid/Shakespeare/tree/00bf638c2287f7549821781f4a48f15bb8a02538",
    "counted": "speeches = runs of rows with the same speaker and speech_number",
}
FILES = {
    "henry_iv_part_1": "Henry IV.json",
    "richard_iii": "Richard III.json",
    "henry_v": "Henry V.json",
    "richard_ii": "Richard II.json",
    "julius_caesar": "Julius Caesar.json",
    "antony_and_cleopatra": "Antony and Cleopatra.json",
    "coriolanus": "Coriolanus.json",
}
SKIP = "-"


def table(text: str) -> dict[str, str]:
    """'A=B | C=D' -> {"A": "B", "C": "D"}."""
    pairs = (item.split("=") for item in text.split("|") if item.strip())
    return {k.strip(): v.strip() for k, v in pairs}


NAMES = {
    "henry_iv_part_1": table(
        "PRINCE HENRY=Prince Henry | FALSTAFF=Sir John Falstaff | HOTSPUR=Hotspur |"
        "POINS=Pointz | EARL OF WORCESTER=Earl of Worcester | WORCESTER=Earl of Worcester |"
        "KING HENRY IV=King Henry the Fourth | GLENDOWER=Owen Glendower |"
        "EARL OF DOUGLAS=Earl of Douglas | BARDOLPH=Bardolph | GADSHILL=Gadshill |"
        "LADY PERCY=Lady Percy | FRANCIS=Francis | VERNON=Sir Richard Vernon |"
        "MORTIMER=Edmund Mortimer | NORTHUMBERLAND=Earl of Northumberland |"
        "SIR WALTER BLUNT=Sir Walter Blunt | WESTMORELAND=Earl of Westmoreland | PETO=Peto |"
        "ARCHBISHOP OF YORK=Archbishop of York | LANCASTER=Prince John of Lancaster |"
        "SIR MICHAEL=Sir Michael | Hostess=Mistress Quickly"
    ),
    "richard_iii": table(
        "GLOUCESTER=Richard III | KING RICHARD III=Richard III | QUEEN ELIZABETH=Queen Elizabeth |"
        "BUCKINGHAM=Duke of Buckingham | LADY ANNE=Lady Anne | HASTINGS=Lord Hastings |"
        "DUCHESS OF YORK=Duchess of York | QUEEN MARGARET=Queen Margaret |"
        "CLARENCE=Duke of Clarence | CATESBY=Sir William Catesby | RIVERS=Earl Rivers |"
        "YORK=Duke of York | PRINCE EDWARD=Prince of Wales | RATCLIFF=Sir Richard Ratcliff |"
        "BRAKENBURY=Sir Robert Brakenbury | DERBY=Lord Stanley | STANLEY=Lord Stanley |"
        "LORD STANLEY=Lord Stanley | RICHMOND=Earl of Richmond |"
        "KING EDWARD IV=King Edward the Fourth | DORSET=Marquis of Dorset |"
        "TYRREL=Sir James Tyrrel | NORFOLK=Duke of Norfolk | BISHOP OF ELY=Bishop of Ely |"
        "GREY=Lord Grey | ARCHBISHOP OF YORK=Archbishop of York | BLUNT=Sir James Blount | LORDS=Lords |"
        "CARDINAL=Cardinal Bourchier | LOVEL=Lord Lovel | CHRISTOPHER=Christopher Urswick |"
        "GENTLEMEN=Gentlemen | VAUGHAN=Sir Thomas Vaughan | OXFORD=Earl of Oxford |"
        "HERBERT=Sir Walter Herbert | SURREY=Earl of Surrey | ANOTHER=Another |"
        "HENRY BOLINGBROKE=- | Lord Mayor=Lord Mayor of London | Boy=Young Son of Clarence |"
        "Girl=Young Daughter of Clarence | Sheriff=Sheriff of Wiltshire |"
        "Second murderer=Second Murderer | Ghost of CLARENCE=Ghost of Clarence |"
        "Ghost of RIVERS=Ghost of Rivers | Ghost of GREY=Ghost of Grey |"
        "Ghost of VAUGHAN=Ghost of Vaughan | Ghost of HASTINGS=Ghost of Hastings |"
        "Ghost of LADY ANNE=Ghost of Queen Anne | of BUCKINGHAM=Ghost of Buckingham |"
        "of Prince Edward=Ghost of Prince Edward | of King Henry VI=Ghost of Henry the Sixth |"
        "of young Princes=Ghosts of the two young Princes"
    ),
    "henry_v": table(
        "KING HENRY V=King Henry V | FLUELLEN=Fluellen | PISTOL=Pistol |"
        "Constable=Constable of France | KATHARINE=Katharine | DAUPHIN=Lewis the Dauphin |"
        "ORLEANS=Duke of Orleans | WILLIAMS=Williams | GOWER=Gower | EXETER=Duke of Exeter |"
        "ALICE=Alice | NYM=Nym | CANTERBURY=Archbishop of Canterbury | BARDOLPH=Bardolph |"
        "KING OF FRANCE=Charles VI | FRENCH KING=Charles VI | ELY=Bishop of Ely |"
        "MONTJOY=Montjoy | WESTMORELAND=Earl of Westmoreland | BURGUNDY=Duke of Burgundy |"
        "BATES=Bates | SCROOP=Lord Scroop | BEDFORD=Duke of Bedford | CAMBRIDGE=Earl of Cambridge |"
        "GLOUCESTER=Duke of Gloucester | RAMBURES=Rambures | ERPINGHAM=Sir Thomas Erpingham |"
        "QUEEN ISABEL=Isabel | GREY=Sir Thomas Grey | JAMY=Jamy | MACMORRIS=Macmorris |"
        "BOURBON=Duke of Bourbon | SALISBURY=Earl of Salisbury | ALL=All | PRINCE FORTINBRAS=- |"
        "GOVERNOR=Governor of Harfleur | COURT=Court | GRANDPRE=Grandpre | YORK=Duke of York |"
        "WARWICK=Earl of Warwick"
    ),
    "richard_ii": table(
        "KING RICHARD II=King Richard the Second | HENRY BOLINGBROKE=Bolingbroke |"
        "DUKE OF YORK=Edmund Langley | DUKE OF AUMERLE=Duke of Aumerle |"
        "NORTHUMBERLAND=Earl of Northumberland | JOHN OF GAUNT=John of Gaunt |"
        "DUCHESS OF YORK=Duchess of York | QUEEN=Richard's Queen | THOMAS MOWBRAY=Thomas Mowbray |"
        "BUSHY=Bushy | HENRY PERCY=Henry Percy | LORD ROSS=Lord Ross | GREEN=Green |"
        "LORD WILLOUGHBY=Lord Willoughby | BAGOT=Bagot | BISHOP OF CARLISLE=Bishop of Carlisle |"
        "SIR STEPHEN SCROOP=Sir Stephen Scroop | LORD FITZWATER=Lord Fitzwater |"
        "EXTON=Sir Pierce of Exton | DUCHESS=Duchess of Gloucester |"
        "EARL OF SALISBURY=Earl of Salisbury | DUKE OF SURREY=Duke of Surrey |"
        "LORD BERKELEY=Lord Berkeley | GOWER=- | GARDENER=Gardener | Abbot=Abbot of Westminster"
    ),
    "julius_caesar": table(
        "BRUTUS=Marcus Brutus | CASSIUS=Cassius | ANTONY=Marcus Antonius | CAESAR=Julius Caesar |"
        "CASCA=Casca | LUCIUS=Lucius | MESSALA=Messala | OCTAVIUS=Octavius Caesar |"
        "PORTIA=Portia | DECIUS BRUTUS=Decius Brutus | CINNA=Cinna | LUCILIUS=Lucilius |"
        "TITINIUS=Titinius | CINNA THE POET=Cinna the Poet | CLITUS=Clitus | FLAVIUS=Flavius |"
        "MARULLUS=Marullus | CALPURNIA=Calpurnia | METELLUS CIMBER=Metellus Cimber |"
        "LIGARIUS=Ligarius | PINDARUS=Pindarus | CICERO=Cicero | TREBONIUS=Trebonius |"
        "ARTEMIDORUS=Artemidorus | VARRO=Varro | CLAUDIUS=Claudius | STRATO=Strato |"
        "LEPIDUS=Mark Aemilius Lepidus | GHOST=Ghost of Caesar | CATO=Cato | DARDANIUS=Dardanius |"
        "VOLUMNIUS=Volumnius | PUBLIUS=Publius | POPILIUS=Popilius Lena | BASTARD=-"
    ),
    "antony_and_cleopatra": table(
        "CLEOPATRA=Cleopatra | MARK ANTONY=Mark Antony | DOMITIUS ENOBARBUS=Domitius Enobarbus |"
        "OCTAVIUS CAESAR=Octavius Caesar | CHARMIAN=Charmian | POMPEY=Sextus Pompeius |"
        "MENAS=Menas | LEPIDUS=Mark Aemilius Lepidus | AGRIPPA=Agrippa | EROS=Eros |"
        "DOLABELLA=Dolabella | IRAS=Iras | ALEXAS=Alexas | MECAENAS=Maecenas | OCTAVIA=Octavia |"
        "SCARUS=Scarus | THYREUS=Thyreus | CANIDIUS=Canidius | PROCULEIUS=Proculeius |"
        "MARDIAN=Mardian | DIOMEDES=Diomedes | EUPHRONIUS=Euphronius | DERCETAS=Dercetas |"
        "VENTIDIUS=Ventidius | SILIUS=Silius | SELEUCUS=Seleucus | PHILO=Philo |"
        "DEMETRIUS=Demetrius | MENECRATES=Menecrates | ROSALIND=- | VARRIUS=Varrius |"
        "TAURUS=Taurus | GALLUS=Gallus"
    ),
    "coriolanus": table(
        "MENENIUS=Menenius Agrippa | CORIOLANUS=Caius Marcius Coriolanus |"
        "MARCIUS=Caius Marcius Coriolanus | SICINIUS=Sicinius Velutus | BRUTUS=Junius Brutus |"
        "COMINIUS=Cominius | VOLUMNIA=Volumnia | AUFIDIUS=Tullus Aufidius | VIRGILIA=Virgilia |"
        "LARTIUS=Titus Lartius | TITUS=Titus Lartius | VALERIA=Valeria | DROMIO OF EPHESUS=- |"
        "Third Servingman=Third Servant | Second Servingman=Second Servant |"
        "First Servingman=First Servant | AEdile=Aedile | Herald=Roman Herald |"
        "Young MARCIUS=Young Marcius | Citizen=Citizen of Antium | Both Tribunes=Both |"
        "Both Citizens=Both"
    ),
}


def speeches(rows: list[dict[str, object]]) -> Counter[str]:
    """Speeches per reference speaker: runs of rows with one speaker and speech_number."""
    counts: Counter[str] = Counter()
    previous = None
    for row in rows:
        speaker, number = str(row.get("speaker") or ""), row.get("speech_number")
        if not speaker or number in ("", None):
            continue
        if (speaker, number) != previous:
            counts[speaker] += 1
        previous = (speaker, number)
    return counts


def named(play: str, counts: Counter[str]) -> dict[str, int]:
    """Counts under dramatis names; stops at a capitalised name the table lacks."""
    out: Counter[str] = Counter()
    for speaker, n in counts.items():
        name = NAMES[play].get(speaker)
        if name is None:
            if speaker.upper() == speaker:
                sys.exit(f"{play}: no name for reference speaker {speaker!r}")
            name = speaker  # a generic role, as the reference writes it
        if name != SKIP:
            out[name] += n
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def main(folder: Path) -> None:
    plays = {}
    for play, file in FILES.items():
        rows = json.loads((folder / file).read_text(encoding="utf-8"))
        plays[play] = named(play, speeches(rows))
    print(json.dumps({"source": SOURCE, "plays": plays}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
