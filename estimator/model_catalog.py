"""Find a model's shape by name: a config.json path, a catalog id or alias, a hub repo id, or a size.

`load_model_spec(name)` tries, in order:
1. an existing path: a config.json file, or a folder holding one;
2. the catalog (`catalog/models/index.json`): ids, their repo names and aliases, matched loosely
   (case, spaces, dashes and underscores ignored, so `Llama 3.1 8B` finds `meta-llama/Llama-3.1-8B`);
3. a bare size such as `7b`, `0.5B` or `350m`: a representative Llama-like shape, flagged approximate;
4. a hub repo id (`org/name`): only config.json is fetched with huggingface_hub; offline
   (HF_HUB_OFFLINE=1) or when that fails, a catalog entry with the same repo name, else an error
   that says to pass a local config.json.
Anything else is an error that lists the closest catalog names.
"""
from __future__ import annotations

import difflib
import json
import math
import os
import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from estimator.errors import EstimatorError
from estimator.model_spec import SIZE_BOUNDS, SUPPORTED_MODEL_TYPES, ModelSpec

CATALOG_DIR = Path(__file__).parent / "catalog" / "models"

# Fields a config.json must state; the others take transformers 5's defaults for its model_type.
_REQUIRED = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads")
# gpt2 configs use their own names (transformers' GPT2Config.attribute_map); n_inner may be null (4H).
_GPT2_NAMES = {"n_embd": "hidden_size", "n_layer": "num_hidden_layers", "n_head": "num_attention_heads",
               "n_positions": "max_position_embeddings", "n_inner": "intermediate_size"}
# transformers 5 defaults for optional fields (configuration_<type>.py); None: derived below.
_DEFAULTS = {
    "llama": {"num_key_value_heads": None, "max_position_embeddings": 2048, "tie_word_embeddings": False},
    "mistral": {"num_key_value_heads": 8, "max_position_embeddings": 131072, "tie_word_embeddings": False},
    "mixtral": {"num_key_value_heads": 8, "max_position_embeddings": 131072, "tie_word_embeddings": False,
                "num_local_experts": 8, "num_experts_per_tok": 2},
    "qwen2": {"num_key_value_heads": 32, "max_position_embeddings": 32768, "tie_word_embeddings": False},
    "gemma2": {"num_key_value_heads": 4, "head_dim": 256, "max_position_embeddings": 8192,
               "tie_word_embeddings": True},
    "phi3": {"num_key_value_heads": None, "max_position_embeddings": 4096, "tie_word_embeddings": False},
    "gpt2": {"max_position_embeddings": 1024, "tie_word_embeddings": True},
}
_ARCHITECTURE_TYPES = {"LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral",
                       "MixtralForCausalLM": "mixtral", "Qwen2ForCausalLM": "qwen2",
                       "Gemma2ForCausalLM": "gemma2", "Phi3ForCausalLM": "phi3", "GPT2LMHeadModel": "gpt2"}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bm])\s*$", re.IGNORECASE)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


class CatalogEntry(BaseModel):
    """One catalog row, as `ftadvisor models` lists it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Hugging Face repo id, e.g. meta-llama/Llama-3.1-8B.")
    aliases: list[str] = Field(description="Other names that find this entry (short names, instruct variants).")
    family: str = ""
    params_total: int = Field(ge=1, description="Exact parameter count.")
    architecture: str = Field(description="config.json model_type.")
    source: str = Field(description="Hub URL of the config.json the data file copies.")


def normalize(name: str) -> str:
    """Loose key: lower case without spaces, dashes or underscores."""
    return re.sub(r"[\s\-_]+", "", name.strip().lower())


@lru_cache(maxsize=1)
def _index() -> tuple[dict, ...]:
    data = json.loads((CATALOG_DIR / "index.json").read_text())
    return tuple(data["models"])


@lru_cache(maxsize=1)
def _lookup() -> dict[str, dict]:
    """Normalised id, repo name and alias -> index row."""
    table: dict[str, dict] = {}
    for row in _index():
        for key in (row["id"], row["id"].split("/")[-1], *row["aliases"]):
            table.setdefault(normalize(key), row)
    return table


@lru_cache(maxsize=64)
def _catalog_config(file: str) -> dict:
    return json.loads((CATALOG_DIR / file).read_text())


def spec_from_config(config: dict, *, name: str, source: str, where: str = "config.json") -> ModelSpec:
    """A ModelSpec from a config.json dict; `where` names the file in errors."""
    model_type = config.get("model_type") or _type_from_architectures(config)
    if not model_type:
        raise EstimatorError(f"{where}: missing field model_type (one of {', '.join(SUPPORTED_MODEL_TYPES)})")
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise EstimatorError(
            f"{where}: model_type {model_type!r} is not supported (supported: {', '.join(SUPPORTED_MODEL_TYPES)})"
        )
    cfg = dict(config)
    if model_type == "gpt2":
        for old, new in _GPT2_NAMES.items():
            if old in cfg:
                cfg.setdefault(new, cfg[old])
        if cfg.get("intermediate_size") is None and "hidden_size" in cfg:
            cfg["intermediate_size"] = 4 * cfg["hidden_size"]  # GPT2MLP: n_inner or 4 * n_embd
    missing = [k for k in _REQUIRED if cfg.get(k) is None]
    if missing:
        raise EstimatorError(f"{where}: missing field(s) {', '.join(missing)} needed for model_type {model_type}")
    defaults = _DEFAULTS[model_type]
    values = {k: cfg[k] if cfg.get(k) is not None else defaults.get(k) for k in (*_REQUIRED, *defaults)}
    _check_bounds(values | {"head_dim": cfg.get("head_dim")}, where)
    heads = values["num_attention_heads"]
    if values.get("num_key_value_heads") is None:
        values["num_key_value_heads"] = heads
    head_dim = cfg.get("head_dim") if model_type != "gpt2" else None
    values["head_dim"] = head_dim or defaults.get("head_dim") or values["hidden_size"] // heads
    attention_bias = bool(cfg.get("attention_bias", False))
    try:
        return ModelSpec(
            name=name, source=source, model_type=model_type, **values,
            qkv_bias=attention_bias, o_bias=attention_bias, mlp_bias=bool(cfg.get("mlp_bias", False)),
        )
    except ValueError as exc:  # pydantic ValidationError: a zero or negative size, a wrong type
        raise EstimatorError(f"{where}: {_first_error(exc)}") from None


def _check_bounds(values: dict, where: str) -> None:
    """One line naming the field and its bound, before pydantic's int parsing gives up on 1e30."""
    for key, bound in SIZE_BOUNDS.items():
        value = values.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > bound:
            raise EstimatorError(f"{where}: {key}: must be at most {bound:,} (no released model comes close), "
                                 f"got {value:g}")


def _type_from_architectures(config: dict) -> str | None:
    for arch in config.get("architectures") or ():
        if arch in _ARCHITECTURE_TYPES:
            return _ARCHITECTURE_TYPES[arch]
    return None


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg')} (got {err.get('input')!r})" if where else str(err.get("msg"))


def _read_config(path: Path) -> tuple[dict, Path]:
    if path.is_dir():
        file = path / "config.json"
        if not file.is_file():
            raise EstimatorError(f"model: {path} is a folder without a config.json; pass the config.json path")
    elif path.is_file():
        file = path
    else:
        raise EstimatorError(f"model: {path} is not a regular file; pass a config.json path or its folder")
    try:
        config = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EstimatorError(f"model: {file} is not a readable config.json ({exc})") from None
    if not isinstance(config, dict):
        raise EstimatorError(f"model: {file} is not a config.json object")
    return config, file


@lru_cache(maxsize=256)
def _cached_spec(name: str) -> ModelSpec:
    key = normalize(name)
    row = _lookup().get(key)
    if row is not None:
        return _catalog_spec(row, name)
    size = _SIZE.match(name)
    if size:
        scale = 1e9 if size.group(2).lower() == "b" else 1e6
        return spec_for_size(float(size.group(1)) * scale, name=name.strip())
    if _HUB_ID.match(name.strip()):
        return _hub_spec(name.strip())
    raise _unknown(name)


def _catalog_spec(row: dict, name: str, note: str = "") -> ModelSpec:
    spec = spec_from_config(_catalog_config(row["file"]), name=name, source="catalog", where=row["file"])
    return spec.model_copy(update={"catalog_id": row["id"], "note": note})


def load_model_spec(name_or_path: str | os.PathLike) -> ModelSpec:
    """A ModelSpec from a config path or folder, a catalog name, a size such as `7b`, or a hub id."""
    name = os.fspath(name_or_path)
    if not isinstance(name, str) or not name.strip():
        raise EstimatorError("model: give a catalog name, a config.json path, a hub id or a size such as 7b")
    path = Path(name).expanduser()
    if path.exists():
        config, file = _read_config(path)
        return spec_from_config(config, name=name, source="config", where=str(file))
    if name.endswith(".json") or name.startswith((".", "/", "~")):
        raise EstimatorError(f"model: no such file {name}")
    return _cached_spec(name).model_copy()


# A bare size gets a Llama-2-like shape (vocab 32000, untied, SwiGLU, head_dim 128, or 64 below
# H = 2048; grouped-query attention with 8 KV heads from 30B up, as Llama 2 70B), with depth about
# H / 128 (Llama 7B: 4096 / 32; 13B: 5120 / 40). H steps by 256; the intermediate size (a multiple
# of 64) then absorbs the rest, so the total lands within ~1% of the size asked.
_SIZE_VOCAB = 32000
_SIZE_MIN, _SIZE_MAX = 2e7, 2e12


def spec_for_size(n_params: float, *, name: str) -> ModelSpec:
    """A representative Llama-like ModelSpec with about `n_params` parameters (approximate=True)."""
    if not _SIZE_MIN <= n_params <= _SIZE_MAX:
        raise EstimatorError(f"model: size {name} is out of range (0.02b to 2000b)")
    best = None
    for hidden in range(256, 32768 + 1, 256):
        spec = _size_shape(n_params, hidden, name)
        if spec is None:
            continue
        # Prefer the depth closest (in ratio) to H / 128, the Llama family's aspect.
        score = abs(math.log(spec.num_hidden_layers * 128 / hidden))
        if best is None or score < best[0]:
            best = (score, spec)
    if best is None:
        raise EstimatorError(f"model: size {name} is too small for a Llama-like shape with a 32000 vocabulary")
    return best[1]


def _size_shape(n_params: float, hidden: int, name: str) -> ModelSpec | None:
    head_dim = 128 if hidden >= 2048 else 64
    heads = hidden // head_dim
    if n_params >= 30e9 and heads % 8:
        return None  # grouped-query attention needs the heads in groups of 8
    kv_heads = 8 if n_params >= 30e9 else heads
    rest = n_params - 2 * _SIZE_VOCAB * hidden - hidden  # embedding, lm_head, final norm
    attention = 2 * hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim + 2 * hidden
    mlp_guess = 3 * hidden * (8 * hidden // 3)
    if rest <= attention + mlp_guess * 0.5:
        return None
    layers = max(1, round(rest / (attention + mlp_guess)))
    intermediate = round((rest / layers - attention) / (3 * hidden) / 64) * 64
    if intermediate < hidden or layers > SIZE_BOUNDS["num_hidden_layers"]:
        return None
    return ModelSpec(
        name=name, source="size", approximate=True, model_type="llama", vocab_size=_SIZE_VOCAB,
        hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=kv_heads, head_dim=head_dim,
        max_position_embeddings=4096, tie_word_embeddings=False,
        note=f"a representative Llama-like shape for {name}, not a real model",
    )


def _hub_spec(repo_id: str) -> ModelSpec:
    """Fetch only config.json from the hub; offline or failing, fall back to a same-named catalog entry."""
    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    reason = "HF_HUB_OFFLINE is set"
    if not offline:
        try:
            config = json.loads(Path(_fetch_hub_config(repo_id)).read_text())
            return spec_from_config(config, name=repo_id, source="hub", where=f"{repo_id}/config.json")
        except EstimatorError:
            raise
        except Exception as exc:  # network, gated repo, not found: all end in the same advice
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
    row = _lookup().get(normalize(repo_id.split("/")[-1]))
    if row is not None:
        return _catalog_spec(row, repo_id, note=f"hub config unavailable ({reason}); used catalog {row['id']}")
    raise EstimatorError(
        f"model: could not get config.json for {repo_id} from the Hugging Face Hub ({reason}); "
        "pass a local config.json path or its folder instead"
    )


def _fetch_hub_config(repo_id: str) -> str:
    """Path of the repo's config.json: from the local hub cache, else downloaded (config.json only)."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url

    try:
        return hf_hub_download(repo_id, "config.json", local_files_only=True)
    except Exception:  # not cached yet
        pass
    # One HEAD without retries first: hf_hub_download alone retries network errors for ~25 s.
    get_hf_file_metadata(hf_hub_url(repo_id, "config.json"), timeout=10)
    return hf_hub_download(repo_id, "config.json")


def _unknown(name: str) -> EstimatorError:
    key = normalize(name)
    scores: dict[str, tuple[float, str]] = {}  # catalog id -> (best score of its names, short name)
    for row in _index():
        for candidate in (row["id"], row["id"].split("/")[-1], *row["aliases"]):
            other = normalize(candidate)
            # Containing what was typed counts as a match (llama3 -> llama-3.1-8b); else difflib's ratio.
            score = 1.0 if key and key in other else difflib.SequenceMatcher(None, key, other).ratio()
            if score > scores.get(row["id"], (0.0, ""))[0]:
                scores[row["id"]] = (score, row["aliases"][0] if row["aliases"] else row["id"])
    close = [short for score, short in sorted(scores.values(), key=lambda v: -v[0]) if score >= 0.6][:6]
    hint = f"; close catalog names: {', '.join(close)}" if close else ""
    return EstimatorError(
        f"model: unknown model {name!r}{hint}. Give a catalog name (ftadvisor models), "
        "a config.json path, a hub id (org/name) or a size such as 7b"
    )


def list_models() -> list[CatalogEntry]:
    """The catalog with exact parameter counts, in catalog order."""
    entries = []
    for row in _index():
        spec = _catalog_spec(row, row["id"])
        entries.append(CatalogEntry(
            id=row["id"], aliases=list(row["aliases"]), family=row.get("family", ""),
            params_total=spec.param_count(), architecture=spec.model_type, source=row["source"],
        ))
    return entries
