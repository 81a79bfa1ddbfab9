"""PAdES signatures on the reports an instance issues, and their validation (pyHanko).

An instance signs every PDF it issues with its own key. The key and its certificate are made at
first start (a self-signed certificate naming the instance) or given as files for a deployment with
a certificate of its own. The cover prints the instance name, the signing time and the review
state; the signature's own time (``/M``) is set to the printed time, so the two always agree.

Validation answers the questions `policygap verify` asks: is there a signature, is it intact and
does it cover the whole file (an incremental update after signing, such as a page overlay, fails),
and who signed it (trusted when its certificate is one the caller trusts).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

FIELD_NAME = "PolicyGapSignature"
_T = TypeVar("_T")


class SigningError(Exception):
    """A key or certificate that cannot be used to sign (unreadable, mismatched)."""


@dataclass(frozen=True)
class SigningIdentity:
    """A private key and its certificate, both PEM."""

    key_pem: bytes
    cert_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)

    @property
    def name(self) -> str:
        return certificate_name(self.cert_pem)

    @property
    def fingerprint(self) -> str:
        return certificate_fingerprint(self.cert_pem)


def certificate_name(cert_pem: bytes) -> str:
    """The certificate's common name (or its whole subject when it has none)."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def certificate_fingerprint(cert_pem: bytes) -> str:
    """SHA-256 of the certificate's DER bytes, as lower-case hex."""
    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def make_identity(name: str, *, now: datetime, years: int = 10) -> SigningIdentity:
    """A new P-256 key and a self-signed certificate for ``name`` (the instance's signing key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PolicyGap instance"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return SigningIdentity(
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
    )


def check_identity(identity: SigningIdentity) -> None:
    """Raise SigningError unless the key is readable and belongs to the certificate."""
    try:
        key = serialization.load_pem_private_key(identity.key_pem, password=None)
        cert = identity.certificate
    except (ValueError, TypeError) as error:
        raise SigningError(f"the signing key or certificate cannot be read: {error}") from error
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(
        serialization.Encoding.PEM, public
    ) != cert.public_key().public_bytes(serialization.Encoding.PEM, public):
        raise SigningError("the signing key does not belong to the certificate")


def _outside_event_loop(fn: Callable[[], _T]) -> _T:
    """``fn()``, run in a thread of its own when this thread runs an event loop: pyHanko's
    synchronous calls start one with ``asyncio.run``, which refuses to nest."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


def sign_pdf(data: bytes, identity: SigningIdentity, *, signed_at: datetime, reason: str) -> bytes:
    """``data`` with a PAdES signature by ``identity`` appended, its time set to ``signed_at``.

    The signature field has no widget on a page: the cover already prints who signed, when and
    in which review state, as tagged text a screen reader reaches."""
    from pyhanko.keys import load_private_key_from_pemder_data
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    check_identity(identity)
    cert = _asn1_from_pem(identity.cert_pem)
    key = load_private_key_from_pemder_data(identity.key_pem, passphrase=None)
    signer = signers.SimpleSigner(
        signing_cert=cert,
        signing_key=key,
        cert_registry=SimpleCertificateStore.from_certs([cert]),  # type: ignore[no-untyped-call]
    )
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        reason=reason,
        name=identity.name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )

    class _AtTime(signers.PdfSigner):
        """Signs with the given time as the signature's time (``/M``)."""

        def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
            session = super().init_signing_session(pdf_out, existing_fields_only)
            session.system_time = signed_at
            return session

    def sign() -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        out = _AtTime(meta, signer=signer).sign_pdf(writer)
        signed: bytes = out.getvalue()
        return signed

    return _outside_event_loop(sign)


@dataclass(frozen=True)
class SignatureCheck:
    """What a signature says about a file: one entry per question `verify` asks."""

    present: bool
    intact: bool = False  # the signed bytes were not changed
    whole_file: bool = False  # nothing was added after signing
    trusted: bool = False  # signed by a certificate the caller trusts
    signer: str = ""
    signer_fingerprint: str = ""
    signed_at: datetime | None = None
    reason: str = ""
    count: int = 0

    @property
    def ok(self) -> bool:
        return self.present and self.intact and self.whole_file and self.trusted


def check_signature(data: bytes, trusted: list[bytes]) -> SignatureCheck:
    """Validate the PDF's signature(s) against the trusted certificates (PEM)."""
    return _outside_event_loop(lambda: _check_signature(data, trusted))


def _check_signature(data: bytes, trusted: list[bytes]) -> SignatureCheck:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = list(reader.embedded_signatures)
    except Exception:  # any unreadable structure means: no usable signature
        return SignatureCheck(present=False)
    if not signatures:
        return SignatureCheck(present=False)
    signature = signatures[-1]
    try:
        signer_pem = _pem_of(signature.signer_cert.dump())
    except Exception:  # a signature without a readable certificate is not trusted
        signer_pem = b""
    trusted_prints = {certificate_fingerprint(pem) for pem in trusted}
    fingerprint = certificate_fingerprint(signer_pem) if signer_pem else ""
    try:
        context = ValidationContext(
            trust_roots=[_asn1_from_pem(pem) for pem in trusted], allow_fetching=False
        )
        status = validate_pdf_signature(
            signature, signer_validation_context=context, skip_diff=True
        )
    except (SignatureValidationError, ValueError, KeyError) as error:
        logging.getLogger(__name__).info("signature does not validate: %s", error)
        return SignatureCheck(present=True, count=len(signatures), signer_fingerprint=fingerprint)
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE and len(signatures) == 1
    name = certificate_name(signer_pem) if signer_pem else ""
    return SignatureCheck(
        present=True,
        intact=bool(status.intact and status.valid),
        whole_file=whole,
        # the instance's own certificate (pinned), or one that chains to a trusted root
        trusted=bool(fingerprint) and (fingerprint in trusted_prints or bool(status.trusted)),
        signer=name,
        signer_fingerprint=fingerprint,
        signed_at=status.signer_reported_dt,
        reason=str(signature.sig_object.get("/Reason", "")),
        count=len(signatures),
    )


def _asn1_from_pem(pem: bytes) -> Any:
    from asn1crypto import pem as asn1_pem
    from asn1crypto import x509 as asn1_x509

    _, _, der = asn1_pem.unarmor(pem)
    return asn1_x509.Certificate.load(der)


def _pem_of(der: bytes) -> bytes:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
