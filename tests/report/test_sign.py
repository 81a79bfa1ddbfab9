"""PAdES signatures: made with the instance key, checked for integrity, coverage and trust."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from service.report.sign import (
    SigningError,
    SigningIdentity,
    check_signature,
    make_identity,
    sign_pdf,
)

NOW = datetime(2026, 12, 4, 12, 30, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def pdf() -> bytes:
    from weasyprint import HTML

    data: bytes = HTML(
        string="<html lang='en'><title>Gap report</title><p>Rating: RED</p></html>"
    ).write_pdf(pdf_variant="pdf/ua-1")
    return data


@pytest.fixture(scope="module")
def instance() -> SigningIdentity:
    return make_identity("policygap.example instance", now=NOW)


def test_signed_pdf_is_intact_whole_and_trusted(pdf: bytes, instance: SigningIdentity) -> None:
    signed = sign_pdf(pdf, instance, signed_at=NOW, reason="Issued report: accepted")
    check = check_signature(signed, [instance.cert_pem])
    assert check.ok
    assert check.signer == "policygap.example instance"
    assert check.signed_at == NOW
    assert check.reason == "Issued report: accepted"
    assert check.signer_fingerprint == instance.fingerprint


def test_unsigned_pdf_has_no_signature(pdf: bytes, instance: SigningIdentity) -> None:
    check = check_signature(pdf, [instance.cert_pem])
    assert not check.present
    assert not check.ok


def test_an_update_after_signing_is_not_covered(pdf: bytes, instance: SigningIdentity) -> None:
    signed = sign_pdf(pdf, instance, signed_at=NOW, reason="Issued report: accepted")
    from weasyprint import HTML

    # the forgery: page 1 painted white with new words, appended as an incremental update
    overlay = HTML(
        string="<style>@page{background:white}</style><p>Rating: GREEN / Status: Accepted</p>"
    ).write_pdf()
    writer = PdfWriter(io.BytesIO(signed), incremental=True)
    writer.pages[0].merge_page(PdfReader(io.BytesIO(overlay)).pages[0])
    out = io.BytesIO()
    writer.write(out)
    check = check_signature(out.getvalue(), [instance.cert_pem])
    assert check.present
    assert check.intact  # the signed revision itself is untouched...
    assert not check.whole_file  # ...but it no longer covers the file
    assert not check.ok


def test_a_changed_byte_breaks_the_signature(pdf: bytes, instance: SigningIdentity) -> None:
    signed = bytearray(sign_pdf(pdf, instance, signed_at=NOW, reason="x"))
    at = signed.index(b"/Producer")
    signed[at + 1] = ord("Q")  # inside the signed range
    check = check_signature(bytes(signed), [instance.cert_pem])
    assert not check.ok
    assert not check.intact


def test_another_key_is_not_trusted(pdf: bytes, instance: SigningIdentity) -> None:
    forger = make_identity("policygap.example instance", now=NOW)  # same name, other key
    signed = sign_pdf(pdf, forger, signed_at=NOW, reason="Issued report: accepted")
    check = check_signature(signed, [instance.cert_pem])
    assert check.intact
    assert check.whole_file
    assert not check.trusted
    assert check_signature(signed, [forger.cert_pem]).trusted


def test_a_key_of_another_certificate_is_refused(pdf: bytes, instance: SigningIdentity) -> None:
    other = make_identity("other", now=NOW)
    mixed = SigningIdentity(key_pem=other.key_pem, cert_pem=instance.cert_pem)
    with pytest.raises(SigningError, match="does not belong"):
        sign_pdf(pdf, mixed, signed_at=NOW, reason="x")
    with pytest.raises(SigningError, match="cannot be read"):
        sign_pdf(
            pdf,
            SigningIdentity(key_pem=b"junk", cert_pem=instance.cert_pem),
            signed_at=NOW,
            reason="x",
        )


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="pdfsig (poppler-utils) not installed")
def test_poppler_reports_the_signature_valid_and_whole(
    pdf: bytes, instance: SigningIdentity, tmp_path: Path
) -> None:
    path = tmp_path / "signed.pdf"
    path.write_bytes(sign_pdf(pdf, instance, signed_at=NOW, reason="x"))
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
    assert "Signature is Valid." in out
    assert "Total document signed" in out
    assert "policygap.example instance" in out
