"""Scratch space on disk for an import's bookkeeping that must not grow in memory (issue 17).

`KeyCounts` is a count per key in a private temporary file, deleted when it is closed (or the
process ends): each `add_run` writes one sorted run of fixed-size records, in one write, and
`get` finds a key by a binary search in each run, newest first. It is not the usage store and
never touches it.

A run is the keys and counts of one spill, sorted by 16 bytes that name the key (`_digest`),
each record those and an 8-byte count. Writing a run costs those 16 bytes and a sort per key:
2.1 us a key, where inserting each key into a SQLite B-tree (the design before) cost 4.5 to 5 us
(tests/test_import_focus_bulk.py holds the numbering to a dict's). Finding a key
costs a look-up in each run, which is why the caller asks only for keys its Bloom filter says
may be there (fields.Occurrences). Keys are compared by those 16 bytes: two keys with the same
128-bit digest would share a count, as two rows with the same 128-bit row key already share a
record key.
"""

from __future__ import annotations

import hashlib
import tempfile
from bisect import bisect_right
from collections.abc import Iterable

DIGEST_BYTES = 16
COUNT_BYTES = 8
RECORD_BYTES = DIGEST_BYTES + COUNT_BYTES
# One fence (the first digest) per this many records, held in memory: a look-up reads one block
# of records (3 kB) per run instead of searching the whole run on disk.
BLOCK_RECORDS = 128


class KeyCounts:
    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (open until close())
        # Each run: its offset in the file, its number of records, the first digest of each
        # block of BLOCK_RECORDS records.
        self._runs: list[tuple[int, int, list[bytes]]] = []
        self._end = 0

    def add_run(self, counts: Iterable[tuple[str, int]]) -> None:
        """Store each key's count; a key stored before is found with its latest count."""
        records = sorted([_digest(key) + n.to_bytes(COUNT_BYTES, "big") for key, n in counts])
        if not records:
            return
        self._file.seek(self._end)
        self._file.write(b"".join(records))
        self._file.flush()
        fences = [records[i][:DIGEST_BYTES] for i in range(0, len(records), BLOCK_RECORDS)]
        self._runs.append((self._end, len(records), fences))
        self._end += len(records) * RECORD_BYTES

    def get(self, key: str) -> int:
        """The key's latest stored count, 0 when it was never stored."""
        digest = _digest(key)
        for offset, records, fences in reversed(self._runs):
            block = bisect_right(fences, digest) - 1
            if block < 0:  # below the run's smallest digest
                continue
            first = block * BLOCK_RECORDS
            size = min(BLOCK_RECORDS, records - first)
            self._file.seek(offset + first * RECORD_BYTES)
            data = self._file.read(size * RECORD_BYTES)
            digests = [data[i : i + DIGEST_BYTES] for i in range(0, len(data), RECORD_BYTES)]
            index = bisect_right(digests, digest) - 1
            if index >= 0 and digests[index] == digest:
                start = index * RECORD_BYTES + DIGEST_BYTES
                return int.from_bytes(data[start : start + COUNT_BYTES], "big")
        return 0

    def close(self) -> None:
        self._file.close()


def _digest(key: str) -> bytes:
    """16 bytes naming the key: the bytes a row key spells (32 lowercase hexadecimal digits,
    what importers.fields.stable_key gives), read in a third of the time of a hash; the
    BLAKE2b digest of any other key."""
    if len(key) == 32 and key.islower():  # (a key of digits only is hashed: still exact)
        try:
            spelled = bytes.fromhex(key)
        except ValueError:
            pass
        else:
            if len(spelled) == DIGEST_BYTES:  # no whitespace between the digits
                return spelled
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=DIGEST_BYTES).digest()
