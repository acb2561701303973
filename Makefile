# The foot-cramp assistant. `make run` runs it, `make test` tests it; both are idempotent.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := $(VENV)/.stamps
MODEL := models/cramps.tar.gz
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONWARNINGS := ignore

TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' -not -path 'data/knowledge/*')

.PHONY: help install spacy train run shell validate test unit stories nlu-eval contract clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMPS)/installed: requirements/lock.txt pyproject.toml scripts/install.sh
	@bash scripts/install.sh "$(PYTHON)" "$(VENV)"
	@mkdir -p $(STAMPS) && touch $@

install: $(STAMPS)/installed ## create the virtual environment from the lock file

$(STAMPS)/spacy: $(STAMPS)/installed scripts/build_spacy_pipeline.py
	@echo "==> building the project's spaCy pipeline (en_cramps)"
	@$(BIN)/python scripts/build_spacy_pipeline.py
	@touch $@

spacy: $(STAMPS)/spacy ## build and install the spaCy pipeline

$(MODEL): $(STAMPS)/spacy $(TRAINING_INPUTS) cramp_nlu/component.py cramp_nlu/red_flags.py cramp_nlu/data/red_flags.yml
	@echo "==> training the model (data or config changed since the last model)"
	@$(BIN)/rasa train --fixed-model-name cramps --out models --force
	@touch $@

train: $(MODEL) ## train when data, config or our NLU code changed since the last model
	@echo "==> model up to date: $(MODEL)"

run: train ## run the assistant: action server, Rasa (REST + socket.io), SQLite tracker store
	@bash scripts/run.sh

shell: train ## chat in the terminal (starts the action server too)
	@bash scripts/run.sh --shell

validate: $(STAMPS)/installed ## check the training data and domain
	@echo "==> rasa data validate"
	@$(BIN)/rasa data validate --quiet

unit: $(STAMPS)/spacy ## fast tests: knowledge, red flags, actions, components
	@echo "==> unit tests"
	@$(BIN)/pytest -q -m "not integration"

stories: train ## Rasa conversation tests in tests/stories
	@echo "==> conversation tests"
	@$(BIN)/rasa test core --model $(MODEL) --stories tests/stories --out results/stories --fail-on-prediction-errors --no-plot

nlu-eval: train ## held-out NLU evaluation: per-intent precision/recall/F1 and confusion matrix
	@echo "==> NLU evaluation on the held-out split (tests/nlu)"
	@$(BIN)/python scripts/nlu_eval.py --model $(MODEL) --data tests/nlu --min-accuracy 0.85 --min-macro-f1 0.85

contract: train ## the evaluation contract over REST against real servers
	@echo "==> contract tests (starts the action server and Rasa)"
	@$(BIN)/pytest -q -m integration

test: validate unit stories nlu-eval contract ## everything above
	@echo "==> all tests passed"

clean: ## remove the environment, build output, models and results
	rm -rf $(VENV) build results models/*.tar.gz
