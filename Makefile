# Two commands do all the set-up on a fresh Debian/Ubuntu machine:
#   make run   - create .venv, install what is missing, start the kiosk offline
#   make test  - install what the tests need (system packages too), run the suite headless
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Runtime libraries the Kivy wheel, OpenCV and pyzbar load at run time; aplay (alsa-utils)
# plays the kiosk's voice (devices/audio.py) and arecord records a spoken complaint
# (devices/microphone.py).
SYSTEM_PACKAGES := libgl1 libegl1 libgl1-mesa-dri libmtdev1 libzbar0 libusb-1.0-0 alsa-utils
# What only the tests need: a real PostgreSQL server for the central service's store,
# Chromium for the public status page, systemd-analyze to verify deploy/lapor-kiosk.service,
# the espeak-ng command for the speech the microphone tests record, Gammu's SMS daemon and
# its dummy phone for the SMS gateway's tests (tests/support/gammu_phone.py),
# (npm, for axe-core, is installed by the $(AXE) rule only when no npm command exists: a
# NodeSource nodejs carries its own npm and conflicts with Debian's npm package.)
TEST_SYSTEM_PACKAGES := postgresql chromium systemd espeak-ng gammu gammu-smsd
# axe-core from npm, for the tests only (never part of the product or its wheel).
AXE_VERSION := 4.14.1
AXE := tests/.axe/node_modules/axe-core/axe.min.js
LOCALES := $(wildcard kiosk/locale/*/LC_MESSAGES/kiosk.po)
CATALOGS := $(LOCALES:.po=.mo)

.PHONY: run test bench central demo system-deps test-system-deps locale clean-venv

run: system-deps $(VENV)/.installed locale
	$(BIN)/kiosk run

test: system-deps test-system-deps $(VENV)/.test-installed locale $(AXE)
	@mkdir -p tests/artifacts
	$(BIN)/lint-imports --no-cache
	KIVY_NO_ARGS=1 KIVY_LOG_MODE=PYTHON $(BIN)/python -m pytest tests --durations=30; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

# The central service the kiosks sync to (SQLite in the user data dir unless
# CENTRAL_DATABASE_URL or ARGS="--database-url ..." says otherwise).
central: $(VENV)/.central-installed
	$(BIN)/python -m central $(ARGS) serve

# A local central service plus a kiosk registered with it (see README).
demo: system-deps $(VENV)/.central-installed locale
	$(BIN)/python -m central.demo

bench: system-deps $(VENV)/.test-installed locale
	$(BIN)/python -m benchmarks

# The PyInstaller one-folder bundle, dist/kiosk/kiosk (docs/DEPLOY.md, "The bundle").
.PHONY: bundle
bundle: system-deps $(VENV)/.test-installed locale
	$(BIN)/pyinstaller --noconfirm --clean kiosk.spec

# Signed releases for `kiosk upgrade` (docs/DEPLOY.md, "Update"), into $(RELEASE_DIR):
# `make release-key` once (keep the .key off the kiosks), then `make release VERSION=...`
# (code only: under 1 MB) or `make release-full VERSION=...` (with the runtime: new
# dependencies, or a kiosk's first install).
# The private key lives outside the checkout, so it is never committed.
RELEASE_KEY ?= $(HOME)/.config/lapor-kiosk/release.key
RELEASE_DIR ?= dist/release
RELEASE_ARGS = --key $(RELEASE_KEY) --out $(RELEASE_DIR) $(if $(VERSION),--version $(VERSION))
.PHONY: release release-full release-key
release: bundle
	$(BIN)/python deploy/build_release.py build $(RELEASE_ARGS)

release-full: bundle
	$(BIN)/python deploy/build_release.py build $(RELEASE_ARGS) --with-runtime

release-key: $(VENV)/.installed
	@mkdir -p -m 0700 $(dir $(RELEASE_KEY))
	$(BIN)/python deploy/build_release.py keygen --private $(RELEASE_KEY) --public $(RELEASE_KEY:.key=.pub)

test-system-deps:
	@$(MAKE) --no-print-directory system-deps SYSTEM_PACKAGES="$(TEST_SYSTEM_PACKAGES)"

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python requirements.txt pyproject.toml
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

$(VENV)/.central-installed: $(VENV)/.installed requirements-central.txt
	$(BIN)/pip install -q -r requirements-central.txt
	@touch $@

$(VENV)/.test-installed: $(VENV)/.central-installed requirements-test.txt
	$(BIN)/pip install -q -r requirements-test.txt
	@touch $@

locale: $(CATALOGS)

$(AXE):
	@command -v npm >/dev/null || $(MAKE) --no-print-directory system-deps SYSTEM_PACKAGES=npm
	npm install --prefix tests/.axe --no-save --no-audit --no-fund axe-core@$(AXE_VERSION)

%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile -i $< -o $@

clean-venv:
	rm -rf $(VENV)
