"""moto applies a conditional write in several Python steps with no lock; DynamoDB serialises writes
to an item. Tests of concurrent writers wrap moto's write operations in one lock to match that."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from moto.dynamodb.models import DynamoDBBackend

_LOCK = threading.RLock()
_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


@contextlib.contextmanager
def serialized_moto_writes() -> Iterator[None]:
    originals = {name: getattr(DynamoDBBackend, name) for name in _WRITES}

    def locked(fn):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            with _LOCK:
                return fn(*args, **kwargs)
        return wrapper

    for name, fn in originals.items():
        setattr(DynamoDBBackend, name, locked(fn))
    try:
        yield
    finally:
        for name, fn in originals.items():
            setattr(DynamoDBBackend, name, fn)
