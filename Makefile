# django-audio developer commands. Everything installs into ./.venv from a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
EXTRAS ?= local,redis,s3,test,lint

.PHONY: install demo test lint docs clean

$(VENV)/.installed-$(EXTRAS): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "django-audio needs Python >= 3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	rm -f $(VENV)/.installed-*
	touch $@

install: $(VENV)/.installed-$(EXTRAS)

## demo: install with the local engine, migrate, create a demo user + API key, serve on 127.0.0.1:$(PORT)
demo: install
	$(PY) example_project/manage.py demo_setup --port $(PORT)
	@echo "Serving http://127.0.0.1:$(PORT)/  (Ctrl-C to stop)"
	$(PY) example_project/manage.py runserver 127.0.0.1:$(PORT) --noreload

## test: install and run the whole suite on embedded defaults (SQLite, in-memory layer, file storage)
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy django_audio
	$(VENV)/bin/mkdocs build --strict --quiet --site-dir $(VENV)/site

docs: install
	$(VENV)/bin/mkdocs build --strict --site-dir $(VENV)/site

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
