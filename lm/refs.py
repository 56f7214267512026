"""What `--model` (and every page's model field) may name, turned into what a worker can load:
an absolute model folder or a hub id.

- a known offline model (`lm.offline`: `smollm2-135m-instruct`, `tiny`): pulled on
  first use into the settings' models folder, then that folder;
- a local folder (absolute, relative to the current folder, or with `~`): resolved once, here,
  because the worker runs in another folder (a relative `./tiny-model` reaching it would be taken
  for a hub id); it must hold a `config.json`;
- anything else is a hub id, checked for its spelling only. Whether the hub (or the local
  Hugging Face cache) has it is `check_available`'s job, done before a model is loaded, with one
  bounded request and no retries, so that a machine without a hub gets one line instead of
  transformers' five retries and its connection error.

Names win over a folder of the same name in the current folder: write `./tiny` for that folder.
"""
from __future__ import annotations

import os
from pathlib import Path

from common.paths import SHOWN_CHARS
from common.text import one_line
from lm.errors import ModelError

HUB_TIMEOUT_S = 10.0  # huggingface_hub's own HF_HUB_ETAG_TIMEOUT default for a metadata request
_PATH_PREFIXES = ("/", "./", "../", "~")


def _shown(ref: str) -> str:
    """`ref` quoted for one line of an error, at most SHOWN_CHARS of it."""
    return one_line(repr(ref), SHOWN_CHARS)


def _offline_names() -> str:
    from lm.offline import OFFLINE_MODELS

    return ", ".join(OFFLINE_MODELS)


def _looks_like_path(ref: str) -> bool:
    """A path even when missing: a hub id is NAME or ORG/NAME, never more slashes or a prefix."""
    return ref.startswith(_PATH_PREFIXES) or ref in (".", "..") or ref.endswith("/") or ref.count("/") > 1


def names_a_folder(ref: str) -> bool:
    """True when `resolve_model` takes `ref` for a model folder rather than an offline model's
    name or a hub id."""
    from lm.offline import OFFLINE_MODELS

    ref = ref.strip()
    return bool(ref) and ref not in OFFLINE_MODELS and (_looks_like_path(ref) or _exists(ref))


def _exists(ref: str) -> bool:
    try:
        return Path(ref).expanduser().exists()
    except (OSError, ValueError):  # a name longer than the file system takes, a NUL byte: no folder
        return False


def readable_model_ref(ref: str, settings) -> str:
    """A model field typed on a page: a folder only where a page may read (the settings' readable
    folders, the models folder that `pull` fills, the runs folder that training fills;
    common.paths.readable_on_a_page), resolved; a name or a hub id as it is. Raises
    PathNotAllowed (a ValueError) with one line."""
    if not names_a_folder(ref):
        return ref.strip()
    from common.paths import readable_on_a_page

    return str(readable_on_a_page(ref, "model", settings, also=(settings.models_dir, settings.runs_dir)))


def model_folder(ref: str) -> Path:
    """The absolute folder `ref` names; a ModelError when it is not a model folder."""
    from common.paths import resolve_user_path

    try:
        path = resolve_user_path(ref, "model")
    except ValueError as exc:  # a symlink loop, a folder that cannot be searched
        raise ModelError(str(exc)) from None
    if not path.exists():
        raise ModelError(f"model: no such folder {_shown(ref)} (give a model folder, a hub id or one of "
                          f"{_offline_names()})")
    if not path.is_dir():
        raise ModelError(f"model: {path} is not a model folder (no config.json): it is a file or a device; "
                          "give the folder that holds config.json")
    if not (path / "config.json").is_file():
        raise ModelError(f"model: {path} is not a model folder: it has no config.json")
    return path


def resolve_model(ref: str) -> str:
    """An absolute model folder or a hub id for `ref` (see the module docstring). Pulls a known
    offline model the first time it is named. Raises ModelError with one line."""
    from lm.offline import OFFLINE_MODELS, pull

    ref = ref.strip()
    if ref in OFFLINE_MODELS:
        return str(pull(ref).path)
    if names_a_folder(ref):
        return str(model_folder(ref))
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(ref)
    except HFValidationError:
        raise ModelError(f"model: {_shown(ref)} is neither a folder, a hub id (ORG/NAME, at "
                          f"most 96 characters) nor one of {_offline_names()}") from None
    return ref


def hub_offline() -> bool:
    """The Hugging Face offline switches, read now (huggingface_hub reads them once at import)."""
    flags = (os.environ.get("HF_HUB_OFFLINE"), os.environ.get("TRANSFORMERS_OFFLINE"))
    return any((value or "").upper() in {"1", "ON", "YES", "TRUE"} for value in flags)


def _unreachable(ref: str, why: str) -> ModelError:
    return ModelError(f"model: {_shown(ref)} is not in the local Hugging Face cache and no model hub is reachable "
                       f"({why}): give a model folder or one of {_offline_names()} (`ftadvisor pull NAME`)")


def check_available(ref: str) -> str:
    """`resolve_model(ref)`, and for a hub id a check that it can be loaded: in the local cache,
    or answered for by the hub (one HEAD of its config.json, HUB_TIMEOUT_S, no retry). Returns
    what to load; raises one ModelError line otherwise."""
    ref = resolve_model(ref)
    if Path(ref).is_absolute():
        return ref
    import httpx2  # the HTTP client of huggingface_hub 2.4: its errors are not OSErrors
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url, try_to_load_from_cache
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    if isinstance(try_to_load_from_cache(ref, "config.json"), str):
        return ref
    if hub_offline():
        raise _unreachable(ref, "HF_HUB_OFFLINE is set")
    try:
        get_hf_file_metadata(hf_hub_url(ref, "config.json"), timeout=HUB_TIMEOUT_S, retry_on_errors=False)
    except GatedRepoError:
        raise ModelError(f"model: {_shown(ref)} is gated on the hub: accept its licence there and log in "
                          "(`hf auth login`), or give a model folder") from None
    except RepositoryNotFoundError:
        raise ModelError(f"model: the hub has no model {_shown(ref)} (or it is private): check the id") from None
    except HfHubHTTPError as exc:
        raise _unreachable(ref, f"{constants.ENDPOINT} answered {exc.response.status_code}") from None
    except (httpx2.HTTPError, OSError) as exc:  # no route, refused, timed out
        raise _unreachable(ref, f"{constants.ENDPOINT}: {type(exc).__name__}") from None
    return ref
