"""Reads ``multipart/form-data`` bodies (uploadImages) with the standard library's MIME parser."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.parser import BytesParser


@dataclass
class Part:
    name: str | None
    filename: str | None
    content_type: str
    data: bytes


def parse_multipart(content_type_header: str, body: bytes) -> list[Part]:
    """Every part of the body; an unparsable body gives an empty list."""
    # The MIME parser wants a whole message, so the HTTP Content-Type becomes its header.
    head = b"Content-Type: " + content_type_header.encode("latin-1", "replace") + b"\r\n\r\n"
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return []
    return [Part(name=part.get_param("name", header="content-disposition"),
                 filename=part.get_filename(),
                 content_type=part.get_content_type(),
                 data=part.get_payload(decode=True) or b"")
            for part in message.iter_parts()]
