"""Every reason an archive is refused for is marked for translation (``N_``), so extracting the
catalogue keeps it: "{name} is compressed in a way that is not supported" was raised as a plain
string, which ``make messages`` does not see (its French was in the catalogue by hand only)."""

from __future__ import annotations

import ast
from pathlib import Path

from service.documents import archive
from service.i18n.catalogue import TEMPLATE
from service.i18n.extract import message_keys, read


def test_every_archive_refusal_is_marked_for_translation() -> None:
    tree = ast.parse(Path(archive.__file__).read_text(encoding="utf-8"))
    plain = [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "BadArchive"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]
    assert plain == []


def test_unsupported_compression_is_in_the_extracted_catalogue() -> None:
    message = "{name} is compressed in a way that is not supported"
    assert (None, message) in message_keys(read(TEMPLATE))
