"""The ids of an index's slots: all str or all int, in insertion order, looked up both ways.

A slot is a document's position in insertion order; search works on slots and turns the few
winners back into ids here. A loaded index keeps its ids packed (an int64 array, or UTF-8
bytes with offsets) and builds the Python list and the id → slot dict only when a caller
first needs them (add, delete, ``in``), so opening a million-document index stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, cast

import numpy as np
import numpy.typing as npt

from spladekit.errors import InputError, InputTypeError

__all__ = ["Id", "IdKind", "IdTable"]

Id = str | int
IdKind = Literal["str", "int"]

_INT64 = np.iinfo(np.int64)


def _kind_of(value: object) -> IdKind | None:
    if isinstance(value, str):
        return "str"
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return "int"
    return None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class IdTable:
    """Slot → id (every slot, deleted ones too until compaction) and live id → slot."""

    def __init__(self) -> None:
        self.kind: IdKind | None = None
        self._list: list[Id] | None = []
        self._slots: dict[Id, int] | None = {}
        self._packed: tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8] | None] | None = None
        self._count = 0

    # --- packed form (save / load) ---------------------------------------------------------

    @classmethod
    def from_arrays(cls, kind: IdKind, arrays: dict[str, npt.NDArray[np.generic]]) -> IdTable:
        """The table of a loaded index: every slot live, nothing unpacked yet."""
        table = cls()
        table.kind = kind
        table._list = None
        table._slots = None
        if kind == "int":
            table._packed = (arrays["ids"].astype(np.int64, copy=False), None)
            table._count = len(arrays["ids"])
        else:
            offsets = arrays["id_offsets"].astype(np.int64, copy=False)
            table._packed = (offsets, arrays["id_bytes"].astype(np.uint8, copy=False))
            table._count = len(offsets) - 1
        return table

    def to_arrays(self, keep: npt.NDArray[np.bool_] | None) -> dict[str, npt.NDArray[np.generic]]:
        """The kept slots' ids packed for saving: ``ids`` (int) or ``id_offsets`` + ``id_bytes``."""
        ids = self._all()
        if keep is not None:
            ids = [ids[slot] for slot in np.flatnonzero(keep).tolist()]
        if self.kind == "int":
            return {"ids": np.array(ids, dtype=np.int64).reshape(-1)}
        encoded = [str(i).encode("utf-8") for i in ids]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        return {"id_offsets": offsets, "id_bytes": blob}

    def _packed_form(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8] | None]:
        if self._packed is None:  # pragma: no cover - the list and the packed form never both lack
            msg = "IdTable holds neither a list nor packed ids"
            raise RuntimeError(msg)
        return self._packed

    def _all(self) -> list[Id]:
        if self._list is None:
            numbers, blob = self._packed_form()
            if blob is None:
                self._list = list(numbers.tolist())
            else:
                text = blob.tobytes()
                bounds = numbers.tolist()
                self._list = [
                    text[a:b].decode("utf-8") for a, b in zip(bounds[:-1], bounds[1:], strict=True)
                ]
            self._packed = None
        return self._list

    def _index(self) -> dict[Id, int]:
        if self._slots is None:
            self._slots = {value: slot for slot, value in enumerate(self._all())}
        return self._slots

    # --- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        """Slots, deleted ones included."""
        return self._count

    def at(self, slots: Sequence[int]) -> list[Id]:
        """The ids of *slots* (a search's few winners), without unpacking the rest."""
        if self._list is not None:
            return [self._list[s] for s in slots]
        numbers, blob = self._packed_form()
        if blob is None:
            return [int(numbers[s]) for s in slots]
        return [blob[numbers[s] : numbers[s + 1]].tobytes().decode("utf-8") for s in slots]

    def slot(self, value: Id) -> int | None:
        """The live slot of *value*, or None."""
        if _kind_of(value) is None:
            return None
        key: Id = int(value) if self.kind == "int" and not isinstance(value, str) else value
        return self._index().get(key)

    def live_ids(self) -> list[Id]:
        """Live ids in insertion order."""
        slots = self._index()
        return sorted(slots, key=slots.__getitem__)

    # --- checking and changing -------------------------------------------------------------

    def check_new(self, ids: Iterable[object], what: str = "ids") -> list[Id]:
        """*ids* as plain str/int, refused with their position if they cannot be added."""
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
            msg = f"{what} must be a list of str or int ids, got {type(ids).__name__}"
            raise InputTypeError(msg)
        taken = self._index()
        fast = self._fast_check(ids, taken)
        if fast is not None:
            return fast
        kind = self.kind
        seen: dict[Id, int] = {}
        checked: list[Id] = []
        for position, value in enumerate(ids):
            found = _kind_of(value)
            if found is None:
                msg = f"{what}[{position}] must be a str or an int, got {type(value).__name__} {_shown(value)}"
                raise InputTypeError(msg)
            if kind is None:
                kind = found
            elif found != kind:
                msg = (
                    f"{what}[{position}] is {found} ({_shown(value)}) but this index holds "
                    f"{kind} ids; use one kind of id per index"
                )
                raise InputTypeError(msg)
            key: Id = value if isinstance(value, str) else int(cast(int, value))
            if isinstance(key, int) and not _INT64.min <= key <= _INT64.max:
                msg = f"{what}[{position}] = {key} does not fit in int64"
                raise InputError(msg)
            if key in seen:
                msg = f"{what}[{position}] = {_shown(key)} repeats {what}[{seen[key]}]; ids must be unique"
                raise InputError(msg)
            if key in taken:
                msg = f"{what}[{position}] = {_shown(key)} is already in the index; delete it first to replace it"
                raise InputError(msg)
            seen[key] = position
            checked.append(key)
        return checked

    def _fast_check(self, ids: Iterable[object], taken: dict[Id, int]) -> list[Id] | None:
        """*ids* when all are plain str (or all plain int in int64) and new; else None.

        A million ids pass here in tens of milliseconds; anything unusual (numpy ints, a
        repeat, a taken id, a wrong type) goes to the slow path, which names the position.
        """
        values = list(ids)
        kinds = {type(value) for value in values}
        if kinds == {str} and self.kind != "int":
            pass
        elif kinds == {int} and self.kind != "str":
            numbers = cast(list[int], values)
            if numbers and not (_INT64.min <= min(numbers) and max(numbers) <= _INT64.max):
                return None
        else:
            return [] if not values else None
        if len(set(values)) != len(values) or not taken.keys().isdisjoint(values):
            return None
        return cast(list[Id], values)

    def check_known(self, ids: Iterable[object], what: str = "ids") -> list[int]:
        """The live slots of *ids*, refused with their position if one is not in the index."""
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
            msg = f"{what} must be a list of str or int ids, got {type(ids).__name__}"
            raise InputTypeError(msg)
        slots: list[int] = []
        seen: set[int] = set()
        for position, value in enumerate(ids):
            slot = self.slot(value)  # type: ignore[arg-type]
            if slot is None:
                msg = f"{what}[{position}] = {_shown(value)} is not in the index"
                raise InputError(msg)
            if slot not in seen:
                seen.add(slot)
                slots.append(slot)
        return slots

    def extend(self, ids: list[Id]) -> None:
        """Give *ids* (already checked) the next slots."""
        if not ids:
            return
        if self.kind is None:
            self.kind = "str" if isinstance(ids[0], str) else "int"
        table, index = self._all(), self._index()
        index.update(zip(ids, range(self._count, self._count + len(ids)), strict=True))
        table.extend(ids)
        self._count += len(ids)

    def forget(self, slots: list[int]) -> None:
        """Drop the id → slot entries of deleted *slots* (their slots stay until compaction)."""
        table, index = self._all(), self._index()
        for slot in slots:
            del index[table[slot]]

    def compact(self, keep: npt.NDArray[np.bool_]) -> None:
        """Renumber after compaction: only the kept slots remain, in the same order."""
        table = self._all()
        self._list = [table[slot] for slot in np.flatnonzero(keep).tolist()]
        self._slots = {value: slot for slot, value in enumerate(self._list)}
        self._count = len(self._list)
