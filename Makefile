# The README's two commands: `make demo` and `make test`. `make bench` runs benchmarks.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
B ?=

.PHONY: demo test bench install system-packages lint pytest odoo-test

install: system-packages
	$(PIP) install --quiet --disable-pip-version-check -r requirements-test.txt

system-packages:
	@tools/system_packages.sh

lint: install
	$(PYTHON) -m ruff check .

pytest: install
	$(PYTHON) -m pytest

odoo-test: install
	$(PYTHON) tools/odoo_tests.py

test: install
	$(PYTHON) -m ruff check .
	$(PYTHON) tools/run_tests.py

demo: install
	$(PYTHON) tools/demo.py $(if $(DB),--db $(DB))

bench: install
	$(PYTHON) tools/run_bench.py $(B)
