"""The Generator interface and its backends: llama.cpp and transformers in process, and any
OpenAI-compatible HTTP server (vLLM, llama.cpp server, Ollama) for heavy or shared work.

All stream text pieces; all decode greedily by default (sampling made small models copy
passages and cite wrong ones, see ../shared/MODELS.md).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.generation.models import PACKAGED_MODELS, resolve_generator_model

Message = dict[str, str]


class Generator(Protocol):
    name: str

    def stream(
        self, messages: list[Message], max_tokens: int, temperature: float = 0.0
    ) -> Iterator[str]:
        """Pieces of the assistant's reply, as soon as they are decoded."""
        ...


@runtime_checkable
class OptionReader(Protocol):
    """A local generator that can read its own next-token probabilities: the model judges a
    finding against a yes/no question by its first word's probabilities (``rag.reading.verdict``)
    rather than by what it happens to write."""

    name: str

    def option_logprobs(self, messages: list[Message], options: list[str]) -> dict[str, float]:
        """Log-probability of each option's first token as the first token of the reply."""
        ...


@runtime_checkable
class PromptCache(Protocol):
    """A local generator that keeps evaluated prompt states (llama.cpp): a caller can have a
    system prompt's state ready before the first question, drop the recent prompts' states,
    and count the prompt tokens it really evaluated (what a first word waits for)."""

    def warm(self, system: str) -> None:
        """Have ``system``'s evaluated state ready before the first prompt that starts with
        it."""
        ...

    def forget_recent(self) -> None:
        """Drop the recent prompts' states."""
        ...

    def prompt_tokens_evaluated(self) -> int:
        """Prompt tokens evaluated so far."""
        ...


def option_logprobs(logits: Any, first_tokens: list[int], options: list[str]) -> dict[str, float]:
    """Log-softmax of the last position's ``logits`` at each option's first token."""
    import numpy as np

    if len(set(first_tokens)) != len(first_tokens):
        raise RagError(f"the options {options} do not start with distinct tokens")
    logits = np.asarray(logits, dtype=np.float64)
    top = logits.max()
    log_total = top + np.log(np.exp(logits - top).sum())
    return {o: float(logits[t] - log_total) for o, t in zip(options, first_tokens, strict=True)}


RECENT_STATE_BYTES = 128 << 20
"""RAM for the states of recent prompts (about 28 kB a token for the 1.5B model: some ten
answers with their evidence), the oldest dropped first."""


class LlamaCppGenerator:
    """A GGUF model through llama-cpp-python: the fastest CPU path.

    The fixed part of a prompt is paid for once: llama.cpp reuses the KV cache of the longest
    prefix shared with the previous call, and for each system prompt (answers, follow-up
    rewrites, summaries) a snapshot of the state after its tokens is kept, so a question
    evaluates only its evidence and its own words even when another kind of prompt ran in
    between. The states of recent prompts are kept too (``RECENT_STATE_BYTES``): a follow-up
    whose prompt starts with the last answer's evidence resumes from there although a
    rewrite of the follow-up ran in between. The prompt is formatted with the GGUF's own chat
    template, as llama-cpp-python's chat completion would, so the tokens are known before the
    call. With ``states``, each system prompt's snapshot is also kept on disk, keyed by the
    model file, the llama.cpp build, the context size and the tokens themselves, so a new
    process (a ``rag ask`` from the command line) restores it instead of evaluating the system
    prompt again; a file that does not match, or does not read, is ignored and the prompt
    evaluated.
    """

    def __init__(self, model_path: Path, context: int, threads: int,
                 states: Path | None = None) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.name = model_path.name
        self._states = states
        stat = model_path.stat()
        self._identity = f"{model_path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|" \
                         f"{context}|{cpu_backend()}|{_llama_version()}"
        self._lock = threading.Lock()  # one llama context serves one request at a time
        self._llama = Llama(
            model_path=str(model_path), n_ctx=context, n_threads=threads,
            n_threads_batch=threads, verbose=False,
        )
        eos, bos = self._llama.token_eos(), self._llama.token_bos()
        self._format = Jinja2ChatFormatter(
            template=self._llama.metadata["tokenizer.chat_template"],
            eos_token=self._text(eos), bos_token=self._text(bos), stop_token_ids=[eos])
        self._prefixes: dict[str, tuple[list[int], Any]] = {}
        self._recent: OrderedDict[tuple[int, ...], Any] = OrderedDict()

    def _text(self, token: int) -> str:
        return self._llama.detokenize([token], special=True).decode() if token != -1 else ""

    def _tokens(self, messages: list[Message]) -> tuple[list[int], Any]:
        formatted = self._format(messages=messages)
        tokens = self._llama.tokenize(formatted.prompt.encode(), special=True,
                                      add_bos=not formatted.added_special)
        return tokens, formatted

    def _fits(self, tokens: list[int], max_tokens: int) -> None:
        """Refuse, in one line, a prompt the context cannot hold with its answer (llama.cpp
        would raise mid-stream)."""
        context = self._llama.n_ctx()
        if len(tokens) + max_tokens > context:
            raise RagError(f"the prompt is {len(tokens)} tokens, too long for the model's "
                           f"context of {context} with a {max_tokens}-token answer; raise "
                           "RAG_CONTEXT_TOKENS or ask with fewer passages (--k)")

    def _restore_prefix(self, messages: list[Message], tokens: list[int]) -> None:
        """Start from the known state that shares the most of ``tokens``, where it shares
        more than the live context: this system prompt's snapshot (made on first use) or a
        recent prompt's (a follow-up that starts with the last answer's evidence)."""
        from llama_cpp import Llama

        known = [(key, state, True) for key, state in self._recent.items()]
        system = self._system_state(messages)
        if system is not None and tokens[: len(system[0])] == system[0]:
            known.append((tuple(system[0]), system[1], False))
        live = Llama.longest_token_prefix(list(self._llama.eval_tokens), tokens)
        shared, key, state, recent = max(
            ((Llama.longest_token_prefix(k, tokens), k, s, r) for k, s, r in known),
            key=lambda candidate: candidate[0], default=(0, (), None, False))
        if shared > live:
            if recent:
                self._recent.move_to_end(key)
            self._llama.load_state(state)

    def _system_state(self, messages: list[Message]) -> tuple[list[int], Any] | None:
        """(the tokens every prompt with this system message starts with, the state after
        them), evaluated or read from disk on first use; None without a system message."""
        from llama_cpp import Llama

        if not messages or messages[0]["role"] != "system":
            return None
        key = messages[0]["content"]
        if key not in self._prefixes:
            if len(self._prefixes) >= 4:
                self._prefixes.pop(next(iter(self._prefixes)))
            probe = [messages[0], {"role": "user", "content": "x"}]
            other = [messages[0], {"role": "user", "content": "y"}]
            a, b = self._tokens(probe)[0], self._tokens(other)[0]
            prefix = a[: Llama.longest_token_prefix(a, b)]
            self._prefixes[key] = (prefix, self._stored_state(prefix) or self._evaluate(prefix))
        return self._prefixes[key]

    def forget_recent(self) -> None:
        """Drop the recent prompts' states (a benchmark's rounds start alike)."""
        with self._lock:
            self._recent.clear()

    def _remember(self) -> None:
        """Keep the live context's state among the recent ones, within RECENT_STATE_BYTES."""
        key = tuple(self._llama.eval_tokens)
        self._recent.pop(key, None)
        self._recent[key] = self._snapshot()
        while sum(state.llama_state_size for state in self._recent.values()) > \
                RECENT_STATE_BYTES and len(self._recent) > 1:
            self._recent.popitem(last=False)

    def _snapshot(self) -> Any:
        """The context's state, without llama-cpp-python's copy of the logits of every
        evaluated token (``save_state`` keeps ~600 kB a token; they are never read: the last
        prompt token is always evaluated again)."""
        import ctypes

        import llama_cpp
        import numpy as np
        from llama_cpp import LlamaState

        size = llama_cpp.llama_state_get_size(self._llama.ctx)
        buffer = (ctypes.c_uint8 * size)()
        used = int(llama_cpp.llama_state_get_data(self._llama.ctx, buffer, size))
        return LlamaState(input_ids=self._llama.input_ids.copy(),
                          scores=np.zeros((1, self._llama.n_vocab()), np.single),
                          n_tokens=self._llama.n_tokens,
                          llama_state=ctypes.string_at(buffer, used),
                          llama_state_size=used, seed=self._llama._seed)

    def warm(self, system: str) -> None:
        """Have ``system``'s evaluated state ready (from disk, or by evaluating it) before
        the first prompt that starts with it."""
        with self._lock:
            messages = [{"role": "system", "content": system}, {"role": "user", "content": "x"}]
            self._restore_prefix(messages, self._tokens(messages)[0])

    def _evaluate(self, prefix: list[int]) -> Any:
        """Evaluate ``prefix`` from an empty context; its state, also kept on disk."""
        self._llama.reset()
        self._llama.eval(prefix)
        state = self._snapshot()
        path = self._state_path(prefix)
        if path is not None:
            import numpy as np

            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".partial.npz")
            np.savez(temporary, tokens=np.array(prefix, np.int32),
                     input_ids=np.asarray(state.input_ids), n_tokens=state.n_tokens,
                     state=np.frombuffer(state.llama_state, np.uint8), seed=state.seed)
            os.replace(temporary, path)
        return state

    def _stored_state(self, prefix: list[int]) -> Any:
        """The snapshot of ``prefix`` kept by an earlier process, loaded into the context; None
        where there is none, or it is for other tokens or does not read."""
        path = self._state_path(prefix)
        if path is None or not path.is_file():
            return None
        import numpy as np
        from llama_cpp import LlamaState

        try:
            with np.load(path, allow_pickle=False) as stored:
                if stored["tokens"].tolist() != prefix:
                    return None
                data = stored["state"].tobytes()
                state = LlamaState(input_ids=stored["input_ids"].astype(np.intc),
                                   # the prefix's logits are never read: the last prompt
                                   # token is always evaluated again
                                   scores=np.zeros((1, self._llama.n_vocab()), np.single),
                                   n_tokens=int(stored["n_tokens"]), llama_state=data,
                                   llama_state_size=len(data), seed=int(stored["seed"]))
            self._llama.reset()
            self._llama.load_state(state)
        except (OSError, ValueError, KeyError, RuntimeError):
            return None
        return state

    def _state_path(self, prefix: list[int]) -> Path | None:
        if self._states is None:
            return None
        digest = hashlib.sha256(f"{self._identity}|{prefix}".encode()).hexdigest()[:24]
        return self._states / f"prefix-{digest}.npz"

    def prompt_tokens_evaluated(self) -> int:
        """llama.cpp's own count of prompt tokens evaluated so far by this model."""
        import llama_cpp

        return int(llama_cpp.llama_perf_context(self._llama.ctx).n_p_eval)

    def option_logprobs(self, messages: list[Message], options: list[str]) -> dict[str, float]:
        import llama_cpp
        import numpy as np
        from llama_cpp import Llama

        first = [self._llama.tokenize(o.encode(), add_bos=False)[0] for o in options]
        with self._lock:
            tokens, _ = self._tokens(messages)
            self._fits(tokens, 1)
            self._restore_prefix(messages, tokens)
            live = Llama.longest_token_prefix(list(self._llama.eval_tokens), tokens)
            # evaluate at least the last prompt token: its logits are the ones read
            self._llama.n_tokens = min(live, len(tokens) - 1)
            self._llama.eval(tokens[self._llama.n_tokens:])
            logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self._llama.ctx, -1),
                                           shape=(self._llama.n_vocab(),))
            return option_logprobs(logits, first, options)

    def stream(self, messages: list[Message], max_tokens: int,
               temperature: float = 0.0) -> Iterator[str]:
        with self._lock:
            tokens, formatted = self._tokens(messages)
            self._fits(tokens, max_tokens)
            self._restore_prefix(messages, tokens)
            stop = formatted.stop if isinstance(formatted.stop, list) else \
                [formatted.stop] if formatted.stop else []
            for part in self._llama.create_completion(
                prompt=tokens, max_tokens=max_tokens, temperature=temperature, stream=True,
                stop=stop, stopping_criteria=formatted.stopping_criteria,
            ):
                text = part["choices"][0]["text"]
                if text:
                    yield text
            self._remember()


class TransformersGenerator:
    """Any causal LM through transformers; a GGUF file is dequantised once into a cached
    safetensors folder, since that first conversion takes minutes for the larger models."""

    def __init__(self, model: Path | str, cache: Path, threads: int) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(threads)
        folder = _transformers_folder(model, cache) if str(model).endswith(".gguf") else model
        self.name = Path(str(model)).name
        self._tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self._model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
        self._model.eval()
        self._lock = threading.Lock()

    def _inputs(self, messages: list[Message]) -> dict[str, Any]:
        inputs = self._tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        return dict(inputs)

    def option_logprobs(self, messages: list[Message], options: list[str]) -> dict[str, float]:
        import torch

        first = [self._tokenizer.encode(o, add_special_tokens=False)[0] for o in options]
        with self._lock, torch.no_grad():
            logits = self._model(**self._inputs(messages)).logits[0, -1]
        return option_logprobs(logits.numpy(), first, options)

    def stream(self, messages: list[Message], max_tokens: int,
               temperature: float = 0.0) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        inputs = self._inputs(messages)
        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True,
                                        skip_special_tokens=True)
        options = {"max_new_tokens": max_tokens, "streamer": streamer,
                   "pad_token_id": self._tokenizer.eos_token_id}
        if temperature > 0:
            options.update(do_sample=True, temperature=temperature)
        else:
            options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        with self._lock:
            worker = threading.Thread(target=self._model.generate, kwargs={**inputs, **options})
            worker.start()
            try:
                yield from (piece for piece in streamer if piece)
            finally:
                worker.join()


def _transformers_folder(gguf: Path | str, cache: Path) -> Path:
    gguf = Path(gguf)
    folder = cache / (gguf.stem + "-transformers")
    if (folder / "config.json").exists():
        return folder
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                  dtype=torch.float32)
    config = AutoConfig.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(loaded.state_dict())
    partial = folder.with_name(folder.name + ".partial")
    plain.save_pretrained(str(partial))
    AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name).save_pretrained(
        str(partial))
    os.replace(partial, folder)
    return folder


class OpenAIGenerator:
    """Streams chat completions from an OpenAI-compatible server (Server-Sent Events)."""

    def __init__(self, url: str, model: str = "", api_key: str = "",
                 timeout: float = 600.0) -> None:
        import httpx

        self.url = url.rstrip("/")
        if not self.url.endswith("/v1"):
            self.url += "/v1"
        self.name = model or "openai-compatible"
        self._model = model
        self._client = httpx.Client(timeout=timeout, headers=(
            {"Authorization": f"Bearer {api_key}"} if api_key else {}))

    def stream(self, messages: list[Message], max_tokens: int,
               temperature: float = 0.0) -> Iterator[str]:
        import httpx
        from httpx_sse import SSEError, connect_sse

        body = {"messages": messages, "max_tokens": max_tokens, "temperature": temperature,
                "stream": True, **({"model": self._model} if self._model else {})}
        try:
            with connect_sse(self._client, "POST", f"{self.url}/chat/completions",
                             json=body) as events:
                reply = events.response
                if reply.status_code != 200:
                    reply.read()
                    raise RagError(f"LLM server {self.url} answered {reply.status_code}: "
                                   f"{reply.text[:200]}")
                for event in events.iter_sse():
                    if event.data.strip() == "[DONE]":
                        break
                    choices = event.json().get("choices") or [{}]
                    text = (choices[0].get("delta") or {}).get("content")
                    if text:
                        yield text
        except (SSEError, ValueError) as err:  # not a stream of JSON events
            raise RagError(f"the LLM server at {self.url} did not stream its answer: {err}") \
                from None
        except httpx.HTTPError as err:
            raise RagError(f"cannot reach the LLM server at {self.url}: {err}; is it running?") \
                from None


def load_configured_generator(settings: Settings) -> Generator:
    """The generator ``settings`` name (see ``load_generator``)."""
    s = settings
    return load_generator(s.generator, s.runtime, s.llm_url, s.model_cache.expanduser(),
                          s.context_tokens, s.threads, s.llm_api_key)


def load_generator(model: str, runtime: str, llm_url: str, cache: Path, context: int,
                   threads: int, api_key: str = "") -> Generator:
    """The configured backend: an HTTP server when ``llm_url`` is set, else a local model on
    llama.cpp where installed (``runtime='auto'``), else transformers."""
    if llm_url:
        return OpenAIGenerator(llm_url, "" if model in PACKAGED_MODELS else model, api_key)
    location = resolve_generator_model(model, cache)
    if runtime == "auto":
        runtime = "llama-cpp" if _has_llama_cpp() and str(location).endswith(".gguf") \
            else "transformers"
    if runtime == "llama-cpp":
        if not _has_llama_cpp():
            raise RagError("llama-cpp-python is not installed; run 'make install' or set "
                           "RAG_RUNTIME=transformers")
        return LlamaCppGenerator(Path(location), context, threads, cache / "states")
    if runtime == "transformers":
        return TransformersGenerator(location, cache, threads)
    raise RagError(f"unknown runtime {runtime!r}; use auto, llama-cpp or transformers")


def cpu_backend() -> str | None:
    """The instruction sets llama.cpp's CPU kernels were built with, from its own system info
    ("AVX2 AVX512 AVX512_VNNI …"); None where llama-cpp-python is not installed."""
    if not _has_llama_cpp():
        return None
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    found = re.findall(r"(\w+) = 1", info.split("CPU :", 1)[-1].split("\n")[0])
    return " ".join(f for f in found if f.isupper() and f not in ("OPENMP", "LLAMAFILE",
                                                                   "REPACK"))


def _llama_version() -> str:
    from importlib.metadata import version

    return version("llama_cpp_python")


def _has_llama_cpp() -> bool:
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None

