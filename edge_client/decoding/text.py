"""UTF-8 text from bytes, strictly: binary data, invalid bytes and lone surrogates refused."""

from __future__ import annotations

from edge_client.decoding.errors import DecodeError

__all__ = ["decode_utf8", "line_at"]


def line_at(data: bytes | str, offset: int) -> int:
    """Return the 1-based line of ``offset`` in ``data`` (lines split on a newline only).

    Parameters
    ----------
    data : bytes or str
        The input.
    offset : int
        A position in it.

    Returns
    -------
    int
        Its line number.
    """
    newline: bytes | str = b"\n" if isinstance(data, bytes) else "\n"
    return data.count(newline, 0, offset) + 1  # type: ignore[arg-type]  # same type as data


def decode_utf8(data: bytes, *, source: str, allow_nul: bool = False) -> str:
    """Decode bytes as UTF-8 text, dropping a leading byte-order mark.

    Parameters
    ----------
    data : bytes
        Raw bytes.
    source : str
        Where they came from, for the message.
    allow_nul : bool
        Whether a NUL byte is acceptable (it marks binary data in text files).

    Returns
    -------
    str
        The text. Python's strict UTF-8 codec never yields lone surrogates.

    Raises
    ------
    DecodeError
        On a NUL byte (binary data: its offset) or invalid UTF-8 (its line and offset).
    """
    if not allow_nul:
        nul = data.find(b"\x00")
        if nul >= 0:
            raise DecodeError(
                source,
                f"looks like binary data (NUL byte at offset {nul}); expected UTF-8 text",
            )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(
            source,
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert the file to UTF-8",
            line=line_at(data, exc.start),
        ) from None
    return text.removeprefix("\ufeff")
