# Dongne Data: two commands on a fresh machine.
#   make run    installs what is missing, then builds everything on seeds/ (or $DONGNE_RAW_DIR)
#   make test   installs what is missing, then runs the test suite
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# pip prints a warning per package for this machine's optional local mirrors: not errors.
PIP_QUIET := grep -v "is ignored: it is neither a file nor a directory" || true

.PHONY: run test test-spark test-cluster cluster cluster-stop dev docs sql metrics install spark-install manifest browser sample lint clean bench \
	bi bi-install bi-user

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV)

# One line on a fresh machine; pip's errors still show. PYTHONWARNINGS quiets the build
# backend's notice about editable installs (a warning, not an error).
$(INSTALLED): pyproject.toml | $(BIN)/python
	@echo "installing pinned dependencies into $(VENV) (a few minutes, once) ..."
	@( PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet --upgrade pip && \
	  PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e '.[dev]' ) 2>&1 | $(PIP_QUIET)
	@$(BIN)/python -c "import dagster, dagster_dbt, dbt.version, duckdb, playwright.sync_api"
	@touch $@

install: $(INSTALLED)

# The Spark engine (DONGNE_ENGINE=spark): pyspark and dbt-spark, about 450 MB, installed
# only for a Spark build and for make test (which builds on both engines), with a Java.
SPARK_INSTALLED := $(VENV)/.installed-spark
JAVA := $(shell command -v java || echo /usr/bin/java)
$(SPARK_INSTALLED): pyproject.toml | $(INSTALLED)
	@echo "installing the Spark engine (pyspark, dbt-spark) into $(VENV) (a few minutes, once) ..."
	@( PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e '.[dev,spark]' ) 2>&1 | $(PIP_QUIET)
	@$(BIN)/python -c "import pyspark, dbt.adapters.spark, pyhive.hive"
	@touch $@

$(JAVA):
	@echo "installing Java 17 for the Spark engine ..."
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless > /dev/null

spark-install: $(SPARK_INSTALLED) $(JAVA)

# make run on Spark when DONGNE_ENGINE=spark (or spark-cluster) says so.
ENGINE_INSTALL := $(if $(filter spark spark-cluster,$(DONGNE_ENGINE)),spark-install,)

manifest: install
	$(BIN)/python -m orchestration.cli prepare

# make run V=1 shows Dagster's and dbt's full log live (it always goes to data/logs/).
run: install $(ENGINE_INSTALL)
	@$(BIN)/python -m orchestration.cli build $(if $(V),-v,)

# Two workers (pytest-xdist), each taking whole test modules, longest first. The BI tool's
# environment installs meanwhile, in the background, when it is missing (its log:
# .venv-bi.log); tests/test_bi.py, which runs last, waits for it.
test: install spark-install manifest browser
	@if [ ! -f $(BI_INSTALLED) ]; then $(MAKE) --no-print-directory bi-install > $(BI_VENV).log 2>&1 & fi; \
	status=0; $(BIN)/python -m pytest -n 2 --dist loadfile -m "not spark and not cluster" || status=$$?; \
	wait; exit $$status

# The Spark engine's tests (tests/test_spark_engine.py: the sample built on a local
# SparkSession, every table equal to DuckDB's, dbt's unit tests on Spark): a few minutes
# of JVM, out of make test's 10-minute loop. CI (.ci/run) runs it after make test.
test-spark: install spark-install manifest
	$(BIN)/python -m pytest -m spark

# The Spark cluster's tests (tests/test_spark_cluster.py): each starts a standalone cluster
# of its own (make cluster's, on free ports), builds the shipped sample through its Thrift
# server, then a day, then day by day with late files, and stops it. About 15 minutes.
test-cluster: install spark-install manifest
	$(BIN)/python -m pytest -m cluster

# A standalone Spark cluster on this machine (orchestration/cluster.py): a master, two
# workers and a Thrift server, logs and pids under $(DONGNE_DATA_DIR)/cluster/, ports on
# 127.0.0.1. Starting it again is harmless. DONGNE_ENGINE=spark-cluster make run builds on it.
cluster: spark-install
	@$(BIN)/python -m orchestration.cluster start

cluster-stop: install
	@$(BIN)/python -m orchestration.cluster stop

# The browser tests drive Debian's Chromium through Playwright (which never downloads a
# browser of its own here): installed with apt the first time.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
# Korean text (titles, regions, categories) needs a CJK font in the headless browser.
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
$(CHROMIUM) $(CJK_FONT):
	@echo "installing Debian's chromium and a Korean font for the browser tests ..."
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk > /dev/null

browser: $(CHROMIUM) $(CJK_FONT)

# The BI tool (Apache Superset) in its own environment: its pins (SQLAlchemy 1.4, pandas
# 2.1) clash with the platform's. make bi serves the dashboards of bi/bundle/ on
# http://127.0.0.1:8088 over the published analytics.duckdb (build it with make run).
BI_VENV := .venv-bi
BI_INSTALLED := $(BI_VENV)/.installed
$(BI_INSTALLED): bi/requirements.txt
	@echo "installing Apache Superset into $(BI_VENV) (a few minutes, once) ..."
	@$(PYTHON) -m venv $(BI_VENV)
	@( PYTHONWARNINGS=ignore $(BI_VENV)/bin/python -m pip install --quiet --upgrade pip && \
	  PYTHONWARNINGS=ignore $(BI_VENV)/bin/python -m pip install --quiet -r bi/requirements.txt ) \
	  2>&1 | $(PIP_QUIET)
	@$(BI_VENV)/bin/python -c "import superset, duckdb_engine"
	@touch $@

bi-install: $(BI_INSTALLED)

bi: bi-install
	@$(BI_VENV)/bin/python bi/launch.py

# A person for the dashboards: make bi-user NAME=kim ROLE=viewer (or analyst) [EMAIL=...]
# Superset must have been set up by make bi; adding a person never reinstalls it.
bi-user:
	@$(if $(NAME),,echo "say who: make bi-user NAME=kim ROLE=viewer" >&2; exit 2;) \
	test -x $(BI_VENV)/bin/python || { echo "no BI environment yet: run make bi first" >&2; exit 2; }; \
	$(BI_VENV)/bin/python bi/launch.py --add-user "$(NAME)" --role "$(or $(ROLE),viewer)" \
	  $(if $(EMAIL),--email "$(EMAIL)")

dev: install manifest
	DAGSTER_HOME=$$($(BIN)/python -m orchestration.cli dagster-home) \
	PATH=$(CURDIR)/$(BIN):$$PATH \
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml

docs: install manifest
	$(BIN)/python -m orchestration.cli docs

# One read-only query on the published database: make sql Q="select ..."
sql: install
	$(BIN)/python -m orchestration.cli sql "$(Q)"

# The semantic layer (MetricFlow): make metrics M="dau,gmv" G="metric_time__week"
M ?= dau,wau,mau,completed_trades,gmv,buyer_conversion
G ?= metric_time__day
metrics: install manifest
	$(BIN)/python -m orchestration.cli mf query --metrics $(M) --group-by $(G) --order $(G)

# Regenerate the committed sample (deterministic: the same files every time).
sample: install
	$(BIN)/python -m dongne_sample --users 220 --days 42 --seed 7 --out seeds

# What a build costs against one plain DuckDB script: sizes S (1M event lines) and M (10M);
# make bench L=1 adds L (100M). Data is generated once and cached under data/bench/. The
# full build also runs on Spark (local) at the sizes SPARK names (default S; SPARK=S,M),
# and the full build and one-day run on a Spark cluster at the sizes CLUSTER names
# (default S,M; CLUSTER= for none), each on a cluster started for it.
SPARK ?= S
CLUSTER ?= S,M
bench: install spark-install
	$(BIN)/python -m bench.run --sizes S,M --spark $(SPARK) --cluster $(CLUSTER) \
	  $(if $(L),--large,)
	$(BIN)/python -m bench.sample_run

# The house's style: ruff for Python, sqlfluff (dbt templater) for SQL. CI runs it before
# make test. sqlfluff compiles the project: it gets a scratch data directory of its own.
LINT_DATA := $(CURDIR)/data/lint
lint: install
	$(BIN)/ruff check --no-cache orchestration dongne_sample bench tests bi
	$(BIN)/ruff format --no-cache --check orchestration dongne_sample bench tests bi
	mkdir -p $(LINT_DATA)/tmp
	cd dbt_project && DONGNE_WAREHOUSE_PATH=$(LINT_DATA)/warehouse.duckdb \
	  DONGNE_TMP_DIR=$(LINT_DATA)/tmp DBT_TARGET_PATH=$(LINT_DATA)/target \
	  DBT_LOG_PATH=$(LINT_DATA)/logs PATH=$(CURDIR)/$(BIN):$$PATH \
	  ../$(BIN)/sqlfluff lint models tests macros --disable-progress-bar

clean:
	rm -rf data dbt_project/target dbt_project/logs .pytest_cache
