"""Playing a recording: decrypted chunk by chunk into a StreamingHttpResponse, with HTTP Range
(RFC 9110 §14) so an audio or video element can seek. One stored chunk is in memory at a time."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.http import HttpResponse, StreamingHttpResponse

from interpersonal.web.fidelity import crypto
from interpersonal.web.fidelity import storage as media
from interpersonal.web.fidelity.models import Recording

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class BadRange(Exception):
    """The Range header asks for nothing this recording has (answered 416)."""


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(first, last)`` inclusive for one ``bytes=`` range; None to send the whole file (no header,
    or a form this server does not serve, such as several ranges — RFC 9110 lets it ignore them)."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None:
        return None
    first_s, last_s = match.groups()
    if not first_s and not last_s:
        return None
    if not first_s:  # the last N bytes
        n = int(last_s)
        if n == 0:
            raise BadRange
        return max(0, size - n), size - 1
    first = int(first_s)
    last = min(int(last_s), size - 1) if last_s else size - 1
    if first >= size or last < first:
        raise BadRange
    return first, last


def plaintext(recording: Recording, data_key: bytes, first: int, last: int) -> Iterator[bytes]:
    """Bytes ``first``..``last`` of the recording, decrypting only the chunks that hold them."""
    size = recording.chunk_size
    for index in range(first // size, last // size + 1):
        chunk = crypto.decrypt_chunk(data_key, recording.storage_prefix, index,
                                     media.read_chunk(recording.storage_prefix, index))
        start = index * size
        yield chunk[max(first - start, 0): last - start + 1]


def respond(recording: Recording, data_key: bytes, range_header: str) -> HttpResponse | StreamingHttpResponse:
    try:
        wanted = parse_range(range_header, recording.size)
    except BadRange:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{recording.size}"
        return response
    first, last = wanted if wanted else (0, recording.size - 1)
    streamed = StreamingHttpResponse(plaintext(recording, data_key, first, last), content_type=recording.content_type,
                                     status=206 if wanted else 200)
    if wanted:
        streamed["Content-Range"] = f"bytes {first}-{last}/{recording.size}"
    streamed["Content-Length"] = str(last - first + 1)
    streamed["Accept-Ranges"] = "bytes"
    streamed["Cache-Control"] = "no-store, private"
    streamed["Content-Disposition"] = "inline"
    return streamed
