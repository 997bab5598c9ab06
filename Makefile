# Two entry points (see README): `make demo` and `make test`. Both create the environment when missing.
# On a machine without an NVIDIA GPU the install is pinned to the CPU torch by constraints-cpu.txt.
VENV ?= .venv
PY := $(VENV)/bin/python
GPU := $(shell command -v nvidia-smi 2>/dev/null)
CONSTRAINTS := $(if $(GPU),,-c constraints-cpu.txt)
# the project's extras to install, a comma list: `make env EXTRAS=test,dover` adds DOVER's run-time dependencies
EXTRAS ?= test
comma := ,
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
export HF_HUB_OFFLINE ?= 1

.PHONY: env demo test test-all paper perf
env: $(STAMP)

$(STAMP): pyproject.toml constraints-cpu.txt
	test -x $(PY) || python3 -m venv $(VENV)
ifeq ($(GPU),)
	# CPU: pinned CPU torch; pyiqa without its unused development extras (ypt/compat/cpu_requirements.py); the
	# torchvision hook PyPI's CUDA torchvision needs beside a CPU torch (ypt/compat/torchvision_cpu.py)
	$(PY) -m pip install -q $(CONSTRAINTS) --no-deps -e '.[$(EXTRAS)]'
	$(PY) -m pip install -q $(CONSTRAINTS) --no-deps "$$($(PY) -m ypt.compat.cpu_requirements --pyiqa)"
	$(PY) -m ypt.compat.cpu_requirements --extras $(EXTRAS) > $(VENV)/requirements-cpu.txt
	$(PY) -m pip install -q $(CONSTRAINTS) -r $(VENV)/requirements-cpu.txt
	$(PY) -m ypt.compat.torchvision_cpu
else
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
endif
	touch $@

demo: env
	$(PY) -m benchmarks.run table2 --demo

paper: env
	$(PY) -m benchmarks.run table2 --source paper

test: env
	$(PY) -m pytest -q

test-all: env
	$(PY) -m pytest -q -m ''

perf: env
	$(PY) -m benchmarks.perf
