# emotion-finetune: `make help` lists the targets.
SHELL := /bin/bash
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# CPU build of PyTorch: the PyTorch CPU index where it can be reached, else whatever pip finds
# (a local wheel on machines that ship one). Override for CUDA, e.g. TORCH_INDEX=https://download.pytorch.org/whl/cu126
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
# The Jupyter kernel every notebook asks for: this .venv's Python, under the project's own name.
KERNEL := emotion-finetune
KERNEL_DISPLAY := Python 3 (emotion-finetune)
KERNEL_SPEC := $(VENV)/share/jupyter/kernels/$(KERNEL)/kernel.json

# `make report PROFILE=cpu|gpu|smoke`; by default $EMOTION_PROFILE, else gpu with CUDA, else cpu.
PROFILE ?= $(shell $(PY) -c "from helpers.profiles import resolve_profile; print(resolve_profile().name)" 2>/dev/null || echo cpu)
# Runs live where the helpers put them: $EMOTION_RUNS_DIR, else runs/.
RUNS_DIR := $(or $(EMOTION_RUNS_DIR),runs)
RUN := $(RUNS_DIR)/$(PROFILE)
EXECUTED := $(RUN)/notebooks
NOTEBOOKS := $(sort $(wildcard notebooks/0*.ipynb))
RUNS := $(patsubst notebooks/%,$(EXECUTED)/%,$(NOTEBOOKS))
# The report's PDF is printed by Chromium (Debian: apt-get install chromium); PDF=no leaves it out.
PDF ?= yes
# `make demo MODEL=path/to/model` (or a run folder: the model it serves); empty: the newest run's served model.
MODEL ?=
# A search shared by several machines: `make hpo-worker STORAGE=postgresql://user@host/db` on each, and
# `make report STORAGE=...` reads the same study in notebook 04. Empty: this machine's SQLite study.
# STUDY names the study in the database (default emotion-<profile>); WORKERS the worker processes per machine.
STORAGE ?=
STUDY ?=
WORKERS ?=

.PHONY: help setup lab test lint format report notebooks bench hpo-worker demo prerequisites clean-runs

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: $(VENV)/.installed $(KERNEL_SPEC) ## Create .venv with CPU PyTorch, the requirements, the helpers package and a Jupyter kernel

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "$(TORCH_SPEC)" --index-url $(TORCH_INDEX) --retries 0 --timeout 10 \
		|| $(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q -r requirements.txt
	$(PIP) install -q --no-deps -e .
	touch $@

# The kernel is registered twice. In .venv (--sys-prefix): what `make lab`, papermill and nbval use, since
# Jupyter run from a virtual environment prefers its own kernels to the user's. And for the user (--user): a
# Jupyter installed elsewhere (a system JupyterLab, VS Code) looks only in its own prefix and the user's folder,
# and would not offer this interpreter otherwise. The user's copy points at this checkout's .venv, so with
# several checkouts the last `make setup` wins; deleting the checkout leaves it dangling (remove it with
# `jupyter kernelspec remove emotion-finetune`). Older setups registered the kernel as `python3`: removed.
$(KERNEL_SPEC): $(VENV)/.installed
	rm -rf $(VENV)/share/jupyter/kernels/python3
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "$(KERNEL_DISPLAY)" >/dev/null
	$(PY) -m ipykernel install --user --name $(KERNEL) --display-name "$(KERNEL_DISPLAY)" >/dev/null

lab: setup ## Open JupyterLab from the repository root on localhost, on the project's kernel
	$(VENV)/bin/jupyter lab --ServerApp.ip=localhost --ServerApp.root_dir="$(CURDIR)" \
		--MappingKernelManager.default_kernel_name=$(KERNEL) $(if $(filter 0,$(shell id -u)),--allow-root)

test: setup ## Lint, unit tests, then every notebook under nbval in the smoke profile
	$(VENV)/bin/ruff check helpers tests notebooks
	$(PY) -m pytest tests
	EMOTION_PROFILE=smoke EMOTION_PROGRESS=0 $(PY) -m pytest --nbval-lax --nbval-current-env -p no:randomly notebooks

lint: setup ## Check style with ruff
	$(VENV)/bin/ruff check helpers tests notebooks
	$(VENV)/bin/ruff format --check helpers tests

format: setup ## Format the code with ruff
	$(VENV)/bin/ruff format helpers tests
	$(VENV)/bin/ruff check --fix helpers tests notebooks

notebooks: $(RUNS) ## Run the notebooks (incrementally) for PROFILE into runs/PROFILE/notebooks

# The report's sources: the executed notebooks and their artifacts under $(RUN), report/published.yaml, and the
# newest benchmarks.json of `make bench` (the run's own, else the committed report/benchmarks.json).
report: notebooks ## Run the notebooks, then write the report (Markdown, HTML, PDF) with the notebooks as pages; smoke: runs/smoke/report
	$(PY) -m helpers.reporting --profile $(PROFILE) $(if $(filter no,$(PDF)),--no-pdf)

bench: setup ## Time training, inference, experiments per hour and bf16 side by side; the report's speed section
	$(PY) -m helpers.bench --profile $(PROFILE) --output runs/$(PROFILE)/benchmarks.json
	[ "$(PROFILE)" = smoke ] || cp runs/$(PROFILE)/benchmarks.json report/benchmarks.json

hpo-worker: setup ## Join PROFILE's search in the database STORAGE (postgresql://...) and run its trials
	@$(PY) -m helpers.search --profile $(PROFILE) $(if $(STORAGE),--storage "$(STORAGE)") \
		$(if $(STUDY),--study "$(STUDY)") $(if $(WORKERS),--workers $(WORKERS))

demo: setup ## Open the Gradio demo on localhost for MODEL (default: the newest run's tuned model)
	@$(PY) -m helpers.serving.demo $(if $(MODEL),"$(MODEL)")

prerequisites: setup ## Rewrite notebooks/prerequisites.mk, each notebook's prerequisites, from the imports
	$(PY) -m helpers.reporting.prerequisites

clean-runs: ## Delete runs/PROFILE (models, studies, executed notebooks)
	rm -rf $(RUN)

# A notebook re-runs when it, a helpers module it reaches, a data file those name, or an upstream run changed:
# the list is derived from the imports (`make prerequisites` writes it; a test fails when it is stale).
include notebooks/prerequisites.mk
$(EXECUTED)/04_hpo.ipynb: private PARAMETERS = $(if $(STORAGE),-p storage "$(STORAGE)") $(if $(STUDY),-p study_name "$(STUDY)")

$(EXECUTED)/%.ipynb: notebooks/%.ipynb | setup
	@mkdir -p $(@D)
	@echo "== $* ($(PROFILE)) =="
	@start=$$(date +%s); \
	if EMOTION_PROGRESS=0 $(PY) -m papermill $< $(@:.ipynb=.partial.ipynb) -p profile $(PROFILE) $(PARAMETERS) -k $(KERNEL) \
		--cwd notebooks --no-progress-bar; then \
		mv $(@:.ipynb=.partial.ipynb) $@; echo "$* $$(( $$(date +%s) - start ))" >> $(RUN)/wall_seconds.txt; \
	else \
		echo "make: notebook $* failed for profile $(PROFILE); see $(@:.ipynb=.partial.ipynb)" >&2; exit 1; \
	fi
