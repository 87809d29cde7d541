# Developer entry points: set-up (.venv, QEMU), build, boot, tests, benchmark, docs (see README.md).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
KCC    := $(VENV)/bin/kcc
ARCH   ?= riscv64
# Empty BOARD means the architecture's default board (qemu-virt for riscv64).
BOARD  ?=
# RELEASE=1: release build (checks out, -O2). Otherwise a checked build.
RELEASE ?=
TIMEOUT ?= 120
SHELL_TIMEOUT ?= 86400
KCCFLAGS = --arch $(ARCH) $(if $(BOARD),--board $(BOARD)) $(if $(RELEASE),--release)

# The QEMU emulator for each architecture and the Debian package that ships it, and the debugger
# that `kcc debug` (make qemu-gdb) and tests/test_gdb.py drive on all three.
QEMU_BINS := qemu-system-riscv64:qemu-system-misc qemu-system-arm:qemu-system-arm \
             qemu-system-i386:qemu-system-x86 gdb-multiarch:gdb-multiarch

.PHONY: all venv qemu-deps build qemu qemu-gdb systest soak check fuzz fuzz-kcc lint test benchmark docs clean distclean

all: build

venv: $(VENV)/.installed

# Reinstalled whenever pyproject.toml changes; the editable install reads kcc/ from this tree.
# Debian's python3 needs the python3-venv package for `python3 -m venv` (it ships ensurepip).
# An editable install gets no byte-code at install time as a pip-installed package does, so
# compileall writes it (it does so even under PYTHONDONTWRITEBYTECODE, which stops only imports).
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { missing=" python3-venv"; $(APT_INSTALL); }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(PY) -m compileall -q kcc
	touch $@

# Shell snippet: install the Debian packages named in $$missing with apt-get when allowed (root, or
# sudo without a password); otherwise print the exact command and fail.
APT_INSTALL = \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; \
	else echo "missing Debian packages:$$missing; run as root:"; \
	     echo "  apt-get update && apt-get install -y$$missing"; exit 1; fi; \
	echo "installing$$missing"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends$$missing

# Installs the missing QEMU and gdb-multiarch packages (see APT_INSTALL).
qemu-deps:
	@missing=""; \
	for pair in $(QEMU_BINS); do \
	  bin=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$bin >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then echo "qemu-deps: QEMU and gdb-multiarch are installed"; exit 0; fi; \
	$(APT_INSTALL)

build: venv
	$(KCC) build $(KCCFLAGS)

# On qemu-virt init starts the shell and a person types at its `$ ` prompt (`halt` powers off), so
# the safety net is a day rather than TIMEOUT; `printf 'echo hi\nhalt\n' | make qemu` works too.
qemu: venv qemu-deps
	$(KCC) run $(KCCFLAGS) --timeout $(SHELL_TIMEOUT)

# QEMU halted with its gdb stub and gdb-multiarch attached, at a (gdb) prompt (kcc debug).
qemu-gdb: venv qemu-deps
	$(KCC) debug $(KCCFLAGS)

# The user-space system tests (kernel_src/user/systest) booted as init: each PASS:/FAIL: line as it
# comes, then `system tests: N/M passed`; exit status 0 only when all passed (kcc/systest.py).
systest: venv qemu-deps
	$(KCC) systest $(KCCFLAGS) --timeout $(TIMEOUT)

# The pool soak (kernel_src/user/soak) booted as init: N create/destroy cycles of every object kind
# (default 1,000,000), each pool checked back at its free count and driven dry before and after;
# the last line says `0 leaks, 0 errors, 0 invariant violations, 0 exhaustion failures` and the
# exit status is 0 only then (docs/reliability.md, "Pool soak"). N is read inside the recipe, not
# set here, because `make fuzz` gives N its own default.
SOAK_TIMEOUT ?= 7200
soak: venv qemu-deps
	$(KCC) run $(KCCFLAGS) --init soak --append="-- $(or $(N),1000000)" --timeout $(SOAK_TIMEOUT)

lint: venv
	$(VENV)/bin/ruff check .

# One pytest worker per CPU (pytest-xdist), whole files to a worker so each file's fixtures (a booted
# shell, a built kernel) are made once; every test builds in its own directory and the user programs
# come from one shared cache (tests/conftest.py).
test: venv qemu-deps
	$(PY) -m pytest -q -n auto --dist loadfile tests

check: venv qemu-deps lint test

# The system-call fuzzer (kernel_src/user/fuzz, kcc/sysfuzz.py) booted as init under -icount shift=0:
# N random system calls from SEED, the kernel's invariants checked after every batch; the last line
# is `fuzz: N calls, P kernel panics, V invariant violations`, exit status 0 only when both are 0
# (docs/reliability.md). N and SEED default inside the recipe (100000, 1): `make soak` reads N too.
FUZZ_TIMEOUT ?= 7200
fuzz: venv qemu-deps
	$(PY) -m kcc.sysfuzz $(KCCFLAGS) --calls $(or $(N),100000) --seed $(or $(SEED),1) --timeout $(FUZZ_TIMEOUT)

# The compiler under mutation (tests/fuzzkcc.py): N mutated sources from SEED (defaults 100000 and 1,
# read in the recipe as for `make fuzz`) through kcc's front end on every CPU, one in 100 on to object
# code; the last line is `fuzz-kcc: N inputs, I internal errors, C crashes, H hangs`, exit status 0
# only when all three are 0; failing inputs go to build/fuzz-kcc/ (replay: tests/fuzzkcc.py --replay).
fuzz-kcc: venv
	$(PY) tests/fuzzkcc.py -n $(or $(N),100000) --seed $(or $(SEED),1)

# Without ARCH= or BOARD= on the command line, every architecture's QEMU board is measured
# (qemu-virt, mps2-an505, pc); with them, just that one.
BENCH_ARCHES = $(if $(or $(filter command line environment,$(origin ARCH)),$(BOARD)),$(ARCH),riscv64 armv8m i586)
# kcc's byte-code is brought up to date first (see the venv rule), so that the build times include
# the start-up of an installed compiler, not the compilation of kcc's own sources.
benchmark: venv qemu-deps
	@$(PY) -m compileall -q kcc
	@for arch in $(BENCH_ARCHES); do \
	  $(PY) benchmarks/run.py --arch $$arch $(if $(BOARD),--board $(BOARD)) || exit 1; \
	done

# The HTML site (MkDocs, mkdocs.yml): the Markdown guides plus the API reference generated from the
# kernel's and kcc's docstrings, built in strict mode (a broken link fails) by kcc.docsite into
# build/docs/html/index.html. The plain-text CLI reference (every command's --help) goes to
# build/docs/cli.txt as before.
docs: venv
	$(PY) -m kcc.docsite
	@{ for c in "" $$($(PY) -c 'from kcc.cli import cli; print(" ".join(cli.commands))'); do \
	     echo "\$$ kcc $$c --help"; $(KCC) $$c --help; echo; done; } > build/docs/cli.txt
	@echo "docs: CLI reference in build/docs/cli.txt"

clean:
	rm -rf build .pytest_cache .hypothesis
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
