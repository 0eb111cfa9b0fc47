# The two commands of the README: `make demo` and `make test`. Each does all set-up first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-fast fuzz lint bench mutate clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt torch==2.13.0
	$(PIP) install -c constraints.txt -e ".[dev]"
	@# Norse (its NIR test only) declares torchvision and an unpinned torch: --no-deps keeps ours
	$(PIP) install --no-deps "norse>=1.1" || echo "norse not installed: its NIR test is skipped"
	touch $(STAMP)

SNNC := $(VENV)/bin/snnc

demo: install
	@for f in dsl_examples/*.snn; do $(SNNC) check $$f || exit 1; done
	$(SNNC) compile dsl_examples/latency_digits.snn --target reference -o build/latency_digits.reference
	$(SNNC) report build/latency_digits.reference --markdown
	@# bss2: the feed-forward 256-246-10 variant fills the chip (the recurrent one has a delay, which bss2
	@# cannot program, and needs two chips without it: docs/targets.md)
	$(SNNC) compile dsl_examples/latency_digits_ff.snn --target bss2 -o build/latency_digits_ff.bss2
	$(SNNC) train dsl_examples/latency_digits_ff.snn --target bss2 --chip-seed 1 -o build/latency_digits_ff.trained
	$(SNNC) run build/latency_digits_ff.trained --data digits
	@echo "report and plots: build/latency_digits_ff.trained/ (report.*, loss.png, accuracy.png, raster.png, membrane.png)"

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

# Fuzzing (issue 14): the suite runs a few thousand fixed examples; this runs FUZZ_EXAMPLES fresh random
# ones per surface: source, target file, compiled program (tests/compiler/fuzzing.py).
FUZZ_EXAMPLES ?= 10000
FUZZ_TESTS    := tests/compiler/test_fuzz.py tests/compiler/test_fuzz_targets.py tests/compiler/test_fuzz_programs.py
fuzz: install
	SNNC_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q $(FUZZ_TESTS)

# Mutation testing (issue 16, docs/testing.md): mutmut on the passes, the targets' maths, the emulators, the
# twin and training, each group of modules with its fast tests; prints the score per module and the
# survivors. Not in CI (SAMPLE=4: about an hour on 2 shared cores; all ~9,800 mutants: a day); run it before a
# change to those modules lands. GROUPS=training core ...
# runs some groups only (tools/mutate.py --list), SAMPLE=N a seeded sample of N mutants per module.
MUTMUT := mutmut==3.8.1
mutate: install
	$(PIP) install -c constraints.txt $(MUTMUT)
	$(PY) tools/mutate.py $(GROUPS) $(if $(SAMPLE),--sample $(SAMPLE))

# Style (ruff), the layer contracts of pyproject.toml's [tool.importlinter] and the 400-line limit.
lint: install
	$(VENV)/bin/ruff check snnc tests benchmarks tools
	$(VENV)/bin/lint-imports --no-cache
	$(PY) tools/check_file_sizes.py

# Benchmarks (scripts, not tests). snnTorch is the optional `bench` extra; it declares no dependencies,
# so --no-deps keeps our torch. Without it the comparison skips its column.
bench: install
	$(PIP) install --no-deps "snntorch>=0.9" || echo "snntorch not installed: its column is skipped"
	mkdir -p build
	$(PY) benchmarks/compile_scaling.py
	$(PY) benchmarks/source_limits.py
	$(PY) benchmarks/runtime_throughput.py --batch 256 --batches 4 --json build/bench_runtime.json
	$(PY) benchmarks/fusion_options.py
	$(PY) benchmarks/emulator_vs_snntorch.py --json build/bench.json
	$(PY) benchmarks/emulator_vs_snntorch.py --recurrent --json build/bench_recurrent.json
	$(PY) benchmarks/nir_agreement.py --json build/nir_agreement.json
	$(PY) benchmarks/st_rsbp_vs_bptt.py --json build/st_rsbp_vs_bptt.json   # add --train for the 20-epoch runs

clean:
	rm -rf build .pytest_cache
