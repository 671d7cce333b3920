"""The stored form of a local-mode item's attributes: their JSON text, deflated against a dictionary
trained on this store's own items.

A Balai item is ~760 bytes of JSON of which most is repeated: attribute names, key prefixes, state names,
the same village and letter-type codes. zlib alone gets little out of one item (it has no history to refer
back to), but with a preset dictionary made of items of the same shapes an item deflates to ~100-200 bytes
(measured on a 29 495-item local-volume store: 758 B of text, 102-158 B stored), at ~40 us to pack and
~8 us to unpack, which is what local mode pays per item written and per item read.

Stored forms:
- text as it is (starts with `{`): before a dictionary exists (a new store's first writes), or whatever a
  format-3 snapshot brought;
- one byte naming the dictionary (1..255), then raw deflate against it.
A dictionary is trained from the latest text of each item shape (its sorted attribute names) written so
far, the most common shapes last (deflate reaches back 32 KB, and nearer is cheaper). Training happens when
`TRAIN_AT` writes have been packed, so the shapes of a running village are in it; items packed before keep
their form until they are written again. Snapshots carry the dictionaries their items use.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections import OrderedDict

DICTIONARY_BYTES = 32 * 1024  # deflate's window: text beyond it could never be referred to
TRAIN_AT = (1_000, 10_000, 100_000)  # packed writes in this process after which a (new) dictionary is made
MAX_SHAPES = 256  # item shapes remembered for training (oldest forgotten)
MAX_DICTIONARIES = 200  # stop training new ones (the marker byte has 255 values)
_WBITS = -15  # raw deflate: no zlib header or checksum per item (the text is checked as JSON when read)

_lock = threading.Lock()
_dictionaries: dict[int, bytes] = {}
_ids: dict[bytes, int] = {}
_current: tuple[int, object] | None = None  # (dictionary id, a compressobj primed with it, to copy)
_shapes: OrderedDict[tuple[str, ...], list[object]] = OrderedDict()  # shape -> [count, latest text]
_packed_writes = 0


def register(dictionary: bytes) -> int:
    """The id of `dictionary` in this process (registered now if new)."""
    with _lock:
        found = _ids.get(dictionary)
        if found is not None:
            return found
        new_id = len(_dictionaries) + 1
        if new_id > 255:
            raise ValueError("too many item dictionaries in one process")
        _dictionaries[new_id] = dictionary
        _ids[dictionary] = new_id
        return new_id


def use(dictionary_id: int) -> None:
    """Pack from now on against this (registered) dictionary."""
    global _current
    primed = zlib.compressobj(6, zlib.DEFLATED, _WBITS, 8, zlib.Z_DEFAULT_STRATEGY, _dictionaries[dictionary_id])
    _current = (dictionary_id, primed)


def dictionary(dictionary_id: int) -> bytes:
    return _dictionaries[dictionary_id]


def dictionary_id(stored: bytes) -> int | None:
    """The dictionary a stored form needs (None for plain text)."""
    return None if stored[:1] == b"{" else stored[0]


def renumbered(stored: bytes, ids: dict[int, int]) -> bytes:
    """A stored form read from a snapshot, its dictionary byte changed to this process's id for it."""
    if stored[:1] == b"{" or ids.get(stored[0], stored[0]) == stored[0]:
        return stored
    return bytes((ids[stored[0]],)) + stored[1:]


def pack(text: bytes, shape: tuple[str, ...] | None = None) -> bytes:
    """The stored form of an item's attribute text; `shape` (its attribute names) feeds training."""
    global _packed_writes
    if shape is not None:
        _note_shape(shape, text)
    current = _current
    if current is None:
        return text
    dictionary_id, primed = current
    deflater = primed.copy()  # type: ignore[attr-defined]
    return bytes((dictionary_id,)) + deflater.compress(text) + deflater.flush()


def text(stored: bytes) -> bytes:
    """The attribute text of a stored form."""
    if stored[:1] == b"{":
        return stored
    inflater = zlib.decompressobj(_WBITS, _dictionaries[stored[0]])
    return inflater.decompress(memoryview(stored)[1:]) + inflater.flush()


def _note_shape(shape: tuple[str, ...], text: bytes) -> None:
    global _packed_writes
    _remember(shape, text)
    _packed_writes += 1
    if _packed_writes in TRAIN_AT and len(_dictionaries) < MAX_DICTIONARIES:
        use(register(train()))


def learn(text: bytes) -> None:
    """Note an item's text for training without counting it as a write (items loaded as text)."""
    _remember(tuple(sorted(json.loads(text))), text)


def _remember(shape: tuple[str, ...], text: bytes) -> None:
    entry = _shapes.get(shape)
    if entry is None:
        _shapes[shape] = [1, text]
        if len(_shapes) > MAX_SHAPES:
            _shapes.popitem(last=False)  # the shape least recently written
    else:
        entry[0] = int(entry[0]) + 1  # type: ignore[call-overload]
        entry[1] = text
        _shapes.move_to_end(shape)


def ensure_dictionary() -> bool:
    """Train and use a dictionary now if none is in use and there is something to train on."""
    if _current is None and _shapes and len(_dictionaries) < MAX_DICTIONARIES:
        use(register(train()))
    return _current is not None


def is_plain(stored: bytes) -> bool:
    return stored[:1] == b"{"


def train() -> bytes:
    """A dictionary from the latest text of each shape seen, the most written shapes last."""
    ranked = sorted(_shapes.values(), key=lambda entry: int(entry[0]))  # type: ignore[call-overload]
    joined = b"".join(entry[1] for entry in ranked)  # type: ignore[misc]
    return joined[-DICTIONARY_BYTES:]


def reset() -> None:
    """Forget the training state (not the dictionaries: stored items may still need them)."""
    global _packed_writes, _current
    _shapes.clear()
    _packed_writes = 0
    _current = None
