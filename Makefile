# The two commands: `make demo` (the whole local stack with demo data) and `make test`.
BIN := .venv/bin

.PHONY: help setup demo up down status test test-faults
.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

setup: ## Install Debian packages, PostgREST and the Python env (idempotent)
	@scripts/setup.sh

demo: setup ## Start the local stack, apply the SQL, load demo data, build the reports, print URLs and keys
	@$(BIN)/mentorships up
	@$(BIN)/mentorships db apply
	@$(BIN)/mentorships seed
	@$(BIN)/mentorships reports build --trigger demo --wait
	@$(BIN)/mentorships info

up: setup ## Start the local stack without (re)seeding
	@$(BIN)/mentorships up

down: ## Stop the local stack
	@$(BIN)/mentorships down

status: ## What runs where, healthy or not
	@$(BIN)/mentorships status

test: setup ## Lint, type-check and run every test on a stack of its own
	@scripts/test.sh

test-faults: setup ## Kill each component under load, take the providers down, drill a restore (~3 min)
	@scripts/test-faults.sh
