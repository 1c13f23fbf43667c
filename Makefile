# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check bench install clean package policies

STAGE ?= dev

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m devkit.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

check: $(STAMP)  # lint, format, types (strict), import rules, complexity, routing rules, template
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m devkit.cycles
	$(BIN)/python -m devkit.declarations
	$(BIN)/python -m devkit.complexity
	$(BIN)/python -m devkit.rules > /dev/null
	$(BIN)/cfn-lint infra/template.yaml
	$(BIN)/python -m devkit.policies --check
	$(BIN)/python -m devkit.package prod > /dev/null
	$(BIN)/cfn-lint build/prod/sam.json

package: $(STAMP)  # one template for the stage: build/$(STAGE)/sam.json and the code's zip
	$(BIN)/python -m devkit.package $(STAGE)
	$(BIN)/cfn-lint build/$(STAGE)/sam.json

policies: $(STAMP)  # .chalice/policies/<stage>/<function>.json from infra/permissions.json
	$(BIN)/python -m devkit.policies

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build
