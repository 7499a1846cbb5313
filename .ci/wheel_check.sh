#!/usr/bin/env bash
# The wheel as a user gets it: build it, check it holds every module and data file,
# install it in a fresh venv (pip's cache supplies the dependencies, llama-cpp-python as
# its already-built wheel) and run the CLI from a folder outside the checkout, so nothing
# is imported from the source tree. Run by `make wheel-check` (DATA_PKGS from the Makefile).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK" "$ROOT/build"' EXIT

rm -rf build  # setuptools' staging folder: a stale copy of a removed module would ship
.venv/bin/python -m pip wheel -q --no-deps -w "$WORK/dist" .
WHEEL=$(ls "$WORK"/dist/dramatis-*.whl)
.venv/bin/python - "$WHEEL" <<'PY'
import sys, zipfile
sys.path.insert(0, "tests")
from test_packaging import wheel_paths

held = set(zipfile.ZipFile(sys.argv[1]).namelist())
missing = sorted(wheel_paths() - held)
if missing:
    sys.exit(f"wheel-check: the wheel lacks {len(missing)} file(s): {', '.join(missing[:8])}")
print(f"wheel-check: {sys.argv[1].rsplit('/', 1)[-1]} holds all {len(wheel_paths())} files")
PY

$PY -m venv "$WORK/venv"
PIP="$WORK/venv/bin/python -m pip"
install() {  # pip's log only when it fails
    $PIP install -q --disable-pip-version-check "$@" >"$WORK/pip.log" 2>&1 \
        || { cat "$WORK/pip.log" >&2; exit 1; }
}
install "$WHEEL"
# shellcheck disable=SC2086  # DATA_PKGS is a list of requirements
install --no-deps ${DATA_PKGS:?set DATA_PKGS (make wheel-check does)}

cd "$WORK"  # outside the checkout: `import dramatis` must come from the wheel
export DRAMATIS_HOME="$WORK/home" DRAMATIS_THREADS=1
BIN="$WORK/venv/bin"
where=$("$BIN/python" -c 'import dramatis.core.errors as m; print(m.__file__)')
case "$where" in "$ROOT"/*) echo "wheel-check: imported $where from the checkout" >&2; exit 1;; esac
"$BIN/dramatis" --help >/dev/null
"$BIN/dramatis" personas show Hamlet >"$WORK/hamlet.txt"
grep -q "son to the former King of Denmark" "$WORK/hamlet.txt"
"$BIN/python" -c "from dramatis.personas.vocabulary import plays_words; assert len(plays_words()) > 20000"  # the vocabulary ships
"$BIN/dramatis" play stats hamlet --json >"$WORK/stats.json"  # the gold table ships
grep -q '"gold_agreement": 1' "$WORK/stats.json"
"$BIN/dramatis" stage --cast Hamlet,Horatio --turns 3 --model fake --out "$WORK/run"
# the bundled Gemma's small-vocabulary copy is made by a core install (no gguf package)
"$BIN/python" - <<'PY'
from dramatis.agents.catalog import resolve_model
from dramatis.agents.small_vocab import read_keep, small_model, vocabulary
copy = small_model(resolve_model("gemma3-270m"))
assert len(vocabulary(copy)[0]) == len(read_keep()) > 90_000, copy
PY
test "$(wc -l <"$WORK/run/transcript.jsonl")" -eq 3
echo "wheel-check: ok"
