# The two commands of the README: `make run` and `make test`. Both set up first;
# setup is idempotent and takes about a second when nothing changed.
PY := .venv/bin/python
STAMP := .venv/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run test unit slow index eval bench soak audit browser docs

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,evals]"
	touch $(STAMP)

index: setup
	$(PY) ingest.py

run: index
	$(PY) app.py

# Chromium for the browser tests comes from Debian (Playwright's own download fails here).
browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# Lint, then every test tier (unit, integration, e2e; `slow` excluded), then the eval gate.
test: setup browser
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	.venv/bin/lint-imports --no-cache
	$(PY) -m pytest -q
	$(PY) ingest.py --quiet
	$(PY) -m evals --check

# The fast tier alone: no real model (a toy embedder), no servers; well under 30 s.
unit: setup
	$(PY) -m pytest -q tests/unit

# The slow tests only: the soak (5 minutes) and the fuzz at 2,000 inputs.
slow: setup
	$(PY) -m pytest -q -s -m slow

# The settings table in docs/operations.md, generated from assistant/settings.py.
docs: setup
	$(PY) scripts/settings_table.py

# Every set of evals/sets.json in one report (evals/out/report.html), compared with the
# committed baselines; a blind set awaiting its first run is listed, not run.
eval: index
	$(PY) -m evals --all

bench: index
	$(PY) -m evals.bench

soak: setup
	$(PY) -m pytest -q -s -m slow tests/e2e/test_soak.py

# Known vulnerabilities of the installed packages (pip-audit, PyPI's advisory data). Fails
# when a package could not be audited, not only on a finding (docs/operations.md).
audit: setup
	$(PY) scripts/audit.py
