"""A Hugging Face hub on 127.0.0.1 for tests: the real huggingface_hub client downloads from it, offline.

It answers what the client asks for a model download: the model info (``/api/models/{repo}``, also at a
revision, with sizes and LFS details when ``blobs`` is asked), HEAD and GET of
``/{repo}/resolve/{revision}/{file}`` with the hub's headers and Range requests, and a gated repo refused the
way the hub refuses one. Knobs: cut a file's next body after N bytes (a broken connection) and serve a file
slowly (so a cancel lands mid-file). Counters: the body bytes served per file, and every request.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

COMMIT = "0123456789abcdef0123456789abcdef01234567"
LFS_SUFFIXES = (".safetensors", ".bin")  # kept in git LFS on the hub: announced by X-Linked-Etag/X-Linked-Size
CHUNK = 64 * 1024
_INFO = re.compile(r"/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<rev>[^/]+))?")
_RESOLVE = re.compile(r"/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)")
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


@dataclass
class Repo:
    files: dict[str, bytes]
    gated: bool = False


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    served: int = 0  # body bytes written to the socket


class FakeHub:
    """The server; use it as a context manager. Its state is read and set by the test's thread."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.cut_after: dict[str, int] = {}  # file name -> bytes: its next body stops there, once
        self.slow: dict[str, float] = {}  # file name -> seconds to wait before each 64 KiB of its body
        self.served: Counter[str] = Counter()  # file name -> body bytes written to the socket
        self.requests: list[Request] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.hub = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, repo_id: str, files: dict[str, bytes], gated: bool = False) -> None:
        self.repos[repo_id] = Repo(dict(sorted(files.items())), gated)

    def gets(self, name: str) -> list[Request]:
        """The GET requests of the file ``name``, in any repo."""
        return [r for r in self.requests if r.method == "GET" and r.path.endswith(f"/{name}")]

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    @property
    def hub(self) -> FakeHub:
        return self.server.hub  # type: ignore[attr-defined,no-any-return]

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        self.request_log = Request(self.command, path, self.headers.get("Range"))
        self.hub.requests.append(self.request_log)
        if match := _INFO.fullmatch(path):
            self._info(match["repo"], match["rev"] or "main", "blobs" in parse_qs(url.query))
        elif match := _RESOLVE.fullmatch(path):
            self._resolve(match["repo"], match["rev"], match["file"], body)
        else:
            self._error(404, "RepoNotFound", "Not found")

    def _info(self, repo_id: str, revision: str, blobs: bool) -> None:
        repo = self._repo(repo_id, revision)
        if repo is None:
            return
        siblings = []
        for name, data in repo.files.items():
            sibling: dict[str, Any] = {"rfilename": name}
            if blobs:
                sibling.update(size=len(data), blobId=git_blob_id(data))
                if name.endswith(LFS_SUFFIXES):
                    sibling["lfs"] = {"size": len(data), "sha256": sha256(data), "pointerSize": 134}
            siblings.append(sibling)
        info = {"id": repo_id, "sha": COMMIT, "private": False, "gated": "manual" if repo.gated else False}
        payload = json.dumps({**info, "siblings": siblings}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _resolve(self, repo_id: str, revision: str, name: str, body: bool) -> None:
        repo = self._repo(repo_id, revision)
        if repo is None:
            return
        if repo.gated:
            message = (
                f"Access to model {repo_id} is restricted. You must have access to it and be authenticated to "
                "access it. Please log in."
            )
            self._error(401, "GatedRepo", message)
            return
        data = repo.files.get(name)
        if data is None:
            self._error(404, "EntryNotFound", f"{name} does not exist on {revision}")
            return
        start = 0
        if (asked := _RANGE.fullmatch(self.headers.get("Range", ""))) is not None:
            start = int(asked[1])
            if start >= len(data):
                self._error(416, "RangeNotSatisfiable", "Requested range not satisfiable")
                return
        self.send_response(206 if start else 200)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{git_blob_id(data)}"')
        if name.endswith(LFS_SUFFIXES):  # the hub's ETag of an LFS file is its sha256
            self.send_header("X-Linked-Etag", f'"{sha256(data)}"')
            self.send_header("X-Linked-Size", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if body:
            self._send_body(name, data[start:])

    def _send_body(self, name: str, data: bytes) -> None:
        limit = self.hub.cut_after.pop(name, len(data))
        delay = self.hub.slow.get(name, 0.0)
        for offset in range(0, min(limit, len(data)), CHUNK):
            if delay:
                time.sleep(delay)
            chunk = data[offset : min(offset + CHUNK, limit)]
            try:
                self.wfile.write(chunk)
            except OSError:  # the client went away: a cancel
                self.close_connection = True
                return
            self.hub.served[name] += len(chunk)
            self.request_log.served += len(chunk)
        self.close_connection = True  # a cut body ends here: the client sees the connection drop

    def _repo(self, repo_id: str, revision: str) -> Repo | None:
        """The repo, or None once the error is answered."""
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            self._error(404, "RepoNotFound", f"Repository Not Found for url: {self.path}.")
            return None
        if revision not in ("main", COMMIT):
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            return None
        return repo

    def _error(self, status: int, code: str, message: str) -> None:
        payload = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


def model_files(folder: Path, weights_bytes: int = 0) -> dict[str, bytes]:
    """The files of a saved model, with its safetensors header padded (as the format allows) to make the
    weights file ``weights_bytes`` long: big enough to span several of huggingface_hub's 10 MB chunks."""
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
    weights = files["model.safetensors"]
    (header_size,) = struct.unpack("<Q", weights[:8])
    header, tensors = weights[8 : 8 + header_size], weights[8 + header_size :]
    padded = max(weights_bytes - 8 - len(tensors), header_size)
    padded += -padded % 8  # keeps the tensors 8-byte aligned
    files["model.safetensors"] = struct.pack("<Q", padded) + header.ljust(padded) + tensors
    return files


def use_hub(monkeypatch: pytest.MonkeyPatch, endpoint: str, hf_home: Path) -> None:
    """Point huggingface_hub at ``endpoint``, with its cache and token under ``hf_home``.

    The library reads these settings once, at import: the environment serves processes started later, and the
    constants this one (``hf_hub_url``, ``HfApi`` and the cache functions read them at each call).
    """
    from huggingface_hub import constants

    cache = hf_home / "hub"
    for name, value in {"HF_ENDPOINT": endpoint, "HF_HOME": hf_home, "HF_HUB_CACHE": cache}.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(hf_home / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(hf_home / "stored_tokens"))
