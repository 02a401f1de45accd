# Two commands do everything on a fresh machine:
#   make run    set up, build the demo store on first start, serve the app on http://localhost:8501
#   make test   set up (incl. Chromium for the browser test, PostgreSQL + PostGIS for the PostGIS store) and run every test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-8)
PORT ?= 8501

.PHONY: setup run test demo bench clean

setup: $(STAMP) static/vendor/.complete

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -c "from minqing.warmup import warm_up; warm_up()"  # compile the numba kernels once, here
	rm -f $(VENV)/.installed-*
	touch $@

static/vendor/.complete: scripts/fetch_assets.py scripts/assets.lock.json
	$(BIN)/python scripts/fetch_assets.py
	touch $@

demo: setup
	$(BIN)/minqing demo --if-missing

run: demo
	$(BIN)/streamlit run app.py --server.port $(PORT)

test: setup
	bash scripts/ensure_chromium.sh
	bash scripts/ensure_postgres.sh
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/bench_foundation.py

clean:
	rm -rf $(VENV) static/vendor data test-artifacts
