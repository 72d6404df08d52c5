"""What the store knows of one image."""

from __future__ import annotations

from rkt_sdk.record import Record


class ImageRecord(Record):
    """One image of the local store, as its index row says.

    Times are nanoseconds since the epoch; ``size`` is the size of the uncompressed tar.
    """

    id: str
    name: str
    labels: dict[str, str]
    import_time: int = 0
    last_used: int = 0
    size: int = 0

    @property
    def version(self) -> str | None:
        """The ``version`` label, if any."""
        return self.labels.get("version")

    @property
    def display_name(self) -> str:
        """``name:version`` as rkt shows it (just ``name`` without a version label)."""
        v = self.version
        return f"{self.name}:{v}" if v else self.name
