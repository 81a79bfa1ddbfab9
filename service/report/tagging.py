"""Completes the PDF's structure tree where WeasyPrint leaves it short, before the PDF is written.

WeasyPrint (70) tags tables as /Table, /THead, /TBody, /TR, /TH and /TD and gives each data cell
its /Headers, but it does not carry the HTML ``scope`` of a header cell into the PDF: a /TH has an
/ID and no /Scope, so a checker that looks at header cells (PDF/UA-1 7.5, `pdfua` UA-15-003)
cannot tell which cells a header governs. `complete_tables` adds the /Scope of every /TH: Column
in the table's head, Row elsewhere, which is what the report's templates say with
``scope="col"`` and ``scope="row"`` (a test holds the templates to that rule).

It runs as WeasyPrint's ``finisher``, on the objects of the PDF before they are serialised, so a
signed report (`sign.py` signs the bytes afterwards) carries it inside the signature.
"""

from __future__ import annotations

from typing import Any

import pydyf

__all__ = ["complete_tables"]


def _parent(objects: list[Any], element: pydyf.Dictionary) -> pydyf.Dictionary | None:
    reference = element.get("P")
    if not isinstance(reference, bytes | str):
        return None
    text = reference.decode("ascii") if isinstance(reference, bytes) else reference
    number = int(text.split()[0])
    parent = objects[number] if 0 <= number < len(objects) else None
    return parent if isinstance(parent, pydyf.Dictionary) else None


def complete_tables(_document: object, pdf: pydyf.PDF) -> None:
    """Give every header cell of the structure tree its /Scope (a WeasyPrint ``finisher``)."""
    objects: list[Any] = pdf.objects
    for element in objects:
        if not isinstance(element, pydyf.Dictionary) or element.get("S") != "/TH":
            continue
        if element.get("Type") != "/StructElem":
            continue
        row = _parent(objects, element)
        group = _parent(objects, row) if row is not None else None
        in_head = group is not None and group.get("S") == "/THead"
        attributes = element.get("A")
        if not isinstance(attributes, pydyf.Dictionary):
            attributes = pydyf.Dictionary({"O": "/Table"})
            element["A"] = attributes
        attributes["Scope"] = "/Column" if in_head else "/Row"
