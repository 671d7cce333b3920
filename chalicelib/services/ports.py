"""What the use cases need from storage, as Protocols: the DynamoDB unit of work and tests' in-memory fake."""

from __future__ import annotations

from typing import Protocol

from chalicelib.domain.operations import CounterReader, Operation, RequestReader
from chalicelib.domain.regions import Region
from chalicelib.storage.people import Staff


class RegionReader(Protocol):
    def get(self, code: str, consistent: bool = False) -> Region | None:
        ...


class StaffReader(Protocol):
    def get_staff(self, username: str) -> Staff | None:
        ...


class UnitOfWork(Protocol):
    """Reads what a use case decides on, collects its operations (domain/operations.py) and commits them as one
    transaction: all written or none. `commit()` raises the errors listed in domain/operations.py, and
    ExternalServiceError / ConflictError(write_conflict) when the store fails or is busy."""

    @property
    def requests(self) -> RequestReader: ...

    @property
    def letters(self) -> CounterReader: ...

    @property
    def regions(self) -> RegionReader: ...

    @property
    def staff(self) -> StaffReader: ...

    def add(self, *operations: Operation) -> None: ...

    def commit(self) -> None: ...
