# The two commands of the README: `make demo` and `make test`. Each does all set-up first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-fast lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt torch==2.13.0
	$(PIP) install -c constraints.txt -e ".[dev]"
	touch $(STAMP)

SNNC := $(VENV)/bin/snnc

demo: install
	@for f in dsl_examples/*.snn; do $(SNNC) check $$f || exit 1; done
	$(SNNC) compile dsl_examples/latency_digits.snn --target reference -o build/latency_digits.reference
	$(SNNC) report build/latency_digits.reference --markdown

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

lint: install
	$(VENV)/bin/ruff check snnc tests benchmarks

clean:
	rm -rf build .pytest_cache
