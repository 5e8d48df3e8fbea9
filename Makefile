# python-cnb developer commands. `make test` is what CI runs (see .ci/run).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_ENV := env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_INDEX_URL PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: all venv vendor mirror index package package-slim image e2e-images e2e test unit lint demo bench clean container-tier

all: test

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP_ENV) $(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	$(PIP_ENV) $(PY) -m pip install --quiet --no-deps -e .
	touch $@

venv: $(VENV)/.installed

# The buildpack's runtime dependencies, pure-Python wheels only (any bootstrap interpreter).
vendor/.installed: vendor.txt
	rm -rf vendor
	$(PIP_ENV) $(PY) -m pip install --quiet --target vendor --no-deps --only-binary :all: \
		--platform any --implementation py --python-version 3.9 --abi none --require-hashes -r vendor.txt
	rm -rf vendor/bin
	touch $@

vendor: venv vendor/.installed

# Relocatable CPython tarballs (python-build-standalone layout) from this machine's pyenv.
mirror: venv
	$(PY) -m tools.mirror

# The tests' package index, filled once from PyPI with pip download.
index: venv
	$(PY) -m tools.local_index fill --dest .cache/index -r tests/index/requirements.txt \
		-r tests/index/aarch64.txt -r tests/index/tool-versions.txt -r tests/index/streamlit.txt \
		-r src/python_cnb/data/tools/pip-tools.txt -r src/python_cnb/data/tools/poetry.txt

# The self-contained buildpack for each [[targets]] entry (a trimmed bootstrap CPython of its
# architecture under runtime/): pack's multi-platform layout dist/python-cnb-<version>/ and a
# reproducible single-target dist/python-cnb-<version>-linux-<arch>.tgz each.
# BUNDLE_RUNTIME=0 (or `make package-slim`): the slim one, dist/python-cnb-<version>-slim{/,.tgz}.
package: vendor
	$(PY) -m tools.package

package-slim: vendor
	$(PY) -m tools.package --slim

# A buildpackage per target in the Docker daemon (python-cnb/python:<version>-linux-<arch>,
# this machine's also :<version>) and their OCI image index, dist/python-cnb-<version>.oci{/,.tar}.
image: vendor
	$(PY) -m tools.image

# Base images for the container tests, from debootstrap (cached by recipe).
e2e-images: venv
	$(PY) -m tools.e2e_images

# The container tier alone.
e2e: vendor mirror index
	bash tools/ensure_docker.sh
	$(PY) -m tools.e2e_images
	$(PY) -m pytest tests/e2e -q -rs

container-tier: venv
	@$(PY) -c "from tests.support.containers import docker_usable as u; r = u(); \
	print('container tier: ' + ('enabled (Docker answers)' if r is None else 'SKIPPED, no usable Docker: ' + r))"

lint: venv
	$(VENV)/bin/ruff check src tests tools bench
	$(VENV)/bin/ruff format --check src tests tools bench
	$(VENV)/bin/mypy

unit: vendor
	$(PY) -m pytest tests/unit tests/tools -q

test: vendor mirror index lint container-tier
	PY=$(PY) bash tools/run_tests.sh

# Benchmarks against pip and uv (not a test; see bench/README.md). BENCH_ARGS="--reps 5".
bench: vendor
	$(PY) -m bench.run $(BENCH_ARGS)

demo: vendor mirror index
	$(PY) -m tools.demo

clean:
	rm -rf .cache dist vendor $(VENV)
