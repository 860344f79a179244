"""Streaming multipart/form-data reader for upload-only: the file part goes straight to disk in
chunks (a 1 GB upload never sits in memory); small text fields are kept, bounded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import anyio
from python_multipart.multipart import MultipartParser, parse_options_header

from opendeploy_plan.emulator.errors import PlatformError

MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 64
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass
class UploadForm:
    fields: dict[str, str] = field(default_factory=dict)
    file_path: Path | None = None
    filename: str = ""
    size: int = 0
    head: bytes = b""


class _PartState:
    def __init__(self) -> None:
        self.header_field = b""
        self.header_value = b""
        self.headers: dict[bytes, bytes] = {}
        self.name = ""
        self.filename: str | None = None
        self.buffer = bytearray()
        self.out: BinaryIO | None = None
        self.parts = 0


async def read_upload(
    content_type: str,
    chunks: AsyncIterator[bytes],
    file_field: str,
    open_file: Callable[[str], Path],
    max_file_bytes: int | None = None,
) -> UploadForm:
    """Parse the body; write the `file_field` part to the path `open_file(filename)` returns.

    A file over `max_file_bytes` is a 400 as soon as it passes the cap (reading stops there;
    the caller removes what `open_file` created)."""
    ctype, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise PlatformError(400, "request Content-Type isn't multipart/form-data")
    form = UploadForm()
    part = _PartState()
    errors: list[str] = []

    def on_part_begin() -> None:
        part.headers = {}
        part.name, part.filename = "", None
        part.buffer = bytearray()
        part.parts += 1
        if part.parts > MAX_PARTS:
            errors.append("too many form parts")

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part.header_value += data[start:end]

    def on_header_end() -> None:
        part.headers[part.header_field.lower()] = part.header_value
        part.header_field, part.header_value = b"", b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(part.headers.get(b"content-disposition", b""))
        part.name = disposition.get(b"name", b"").decode("utf-8", "replace")
        raw = disposition.get(b"filename")
        part.filename = None if raw is None else raw.decode("utf-8", "replace")
        if part.name == file_field and part.filename is not None and form.file_path is None:
            form.filename = part.filename
            form.file_path = open_file(part.filename)
            part.out = open(form.file_path, "wb")  # noqa: SIM115 - closed in on_part_end

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part.out is not None:
            chunk = data[start:end]
            if len(form.head) < 8:
                form.head += chunk[: 8 - len(form.head)]
            form.size += end - start
            if max_file_bytes is not None and form.size > max_file_bytes:
                raise PlatformError(
                    400, f"uploaded file too large: the limit is {max_file_bytes // 1024**2} MiB"
                )
            part.out.write(chunk)
        elif part.filename is None:
            if len(part.buffer) + (end - start) > MAX_FIELD_BYTES:
                errors.append(f"form field {part.name!r} is too large")
            else:
                part.buffer += data[start:end]

    def on_part_end() -> None:
        if part.out is not None:
            part.out.close()
            part.out = None
        elif part.filename is None and part.name:
            form.fields[part.name] = part.buffer.decode("utf-8", "replace")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
        },
    )
    try:
        async for chunk in chunks:
            if chunk:
                await anyio.to_thread.run_sync(parser.write, chunk)
        parser.finalize()
    except PlatformError:
        raise
    except Exception as exc:
        raise PlatformError(400, f"malformed multipart body: {exc}") from exc
    finally:
        if part.out is not None:
            part.out.close()
    if errors:
        raise PlatformError(400, errors[0])
    return form
