"""Open311 GeoReport v2 documents as JSON or XML, UTF-8, with the spec's element names.

A document is plain data (``central.open311`` builds it): a dict is an element whose keys
are its children, in order; a list is an element holding one child per item, named by
``ITEMS`` (``services`` -> ``service``, ``attributes`` -> ``attribute``, ...); ``None`` is
an empty element in XML and ``null`` in JSON; booleans are ``true``/``false`` in both.
ElementTree escapes text; characters XML 1.0 cannot hold at all are written as U+FFFD.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

#: Each document kind: its root element, and the element of each item when it is a list.
ROOTS = {"discovery": ("discovery", None), "services": ("services", "service"),
         "service_definition": ("service_definition", None), "service_requests": ("service_requests", "request"),
         "errors": ("errors", "error")}
#: The element of each item of a list inside a document.
ITEMS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _element(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, child in value.items():
            _element(element, key, child)
    elif isinstance(value, list):
        for item in value:
            _element(element, ITEMS[name], item)
    else:
        element.text = _text(value)


def encode(kind: str, document: Any, fmt: str) -> tuple[bytes, str]:
    """(the bytes, their media type) of a document of ``kind`` (one of ROOTS) in ``fmt``."""
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), MEDIA_TYPES["json"]
    root_name, item = ROOTS[kind]
    root = ET.Element(root_name)
    if item is None:
        for key, child in document.items():
            _element(root, key, child)
    else:
        for entry in document:
            _element(root, item, entry)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True), MEDIA_TYPES["xml"]


def errors(status: int, description: str) -> list[dict]:
    """The spec's error list of one error."""
    return [{"code": status, "description": description}]
