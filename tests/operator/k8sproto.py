"""Decode the Kubernetes protobuf bodies that typed clients send (``kubectl create``, helm's release
storage) into the JSON objects the API emulator stores.

Only what those clients create is known: Namespace, Secret and ConfigMap with their ObjectMeta
(field numbers from k8s.io/api/core/v1/generated.proto and apimachinery's meta/v1). Anything else
raises ``ValueError`` (the emulator answers 415, so the client retries in JSON where it can).
"""

from __future__ import annotations

import base64
from typing import Any

__all__ = ["MAGIC", "decode"]

MAGIC = b"k8s\x00"


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs: varints as int, length-delimited as bytes."""
    out, i = [], 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            value, i = data[i:i + size], i + size
        elif wire == 1:
            value, i = int.from_bytes(data[i:i + 8], "little"), i + 8
        elif wire == 5:
            value, i = int.from_bytes(data[i:i + 4], "little"), i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        out.append((number, value))
    return out


def _map(entries: list[bytes], binary: bool = False) -> dict[str, str]:
    out = {}
    for entry in entries:
        kv = dict(_fields(entry))
        value = kv.get(2, b"")
        out[kv.get(1, b"").decode()] = base64.b64encode(value).decode() if binary else value.decode()
    return out


_META_STRINGS = {1: "name", 2: "generateName", 3: "namespace", 5: "uid", 6: "resourceVersion"}


def _meta(data: bytes) -> dict[str, Any]:
    fields = _fields(data)
    meta: dict[str, Any] = {key: v.decode() for n, v in fields if (key := _META_STRINGS.get(n)) and v}
    labels = [v for n, v in fields if n == 11]
    annotations = [v for n, v in fields if n == 12]
    finalizers = [v.decode() for n, v in fields if n == 14]
    if labels:
        meta["labels"] = _map(labels)
    if annotations:
        meta["annotations"] = _map(annotations)
    if finalizers:
        meta["finalizers"] = finalizers
    return meta


def _secret(fields: list[tuple[int, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "Opaque"}  # the API server's default
    data = [v for n, v in fields if n == 2]
    string_data = [v for n, v in fields if n == 4]
    if data:
        body["data"] = _map(data, binary=True)
    if string_data:
        body["stringData"] = _map(string_data)
    for number, value in fields:
        if number == 3 and value:  # kubectl sends an empty type for the server to default
            body["type"] = value.decode()
        elif number == 5:
            body["immutable"] = bool(value)
    return body


def _config_map(fields: list[tuple[int, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    data = [v for n, v in fields if n == 2]
    binary = [v for n, v in fields if n == 3]
    if data:
        body["data"] = _map(data)
    if binary:
        body["binaryData"] = _map(binary, binary=True)
    return body


_KINDS = {"Namespace": lambda fields: {}, "Secret": _secret, "ConfigMap": _config_map}


def decode(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded object. Raises ValueError for kinds it does not know."""
    if not body.startswith(MAGIC):
        raise ValueError("not a Kubernetes protobuf body")
    unknown = dict(_fields(body[len(MAGIC):]))
    type_meta = dict(_fields(unknown.get(1, b"")))
    api_version, kind = type_meta.get(1, b"").decode(), type_meta.get(2, b"").decode()
    if kind not in _KINDS:
        raise ValueError(f"protobuf {api_version} {kind} is not decoded by the emulator")
    fields = _fields(unknown.get(2, b""))
    obj = {"apiVersion": api_version, "kind": kind, "metadata": _meta(next((v for n, v in fields if n == 1), b""))}
    obj.update(_KINDS[kind](fields))
    return obj
