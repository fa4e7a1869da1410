"""XML-DSig for CAP alerts: sign with the configured key, verify against a pinned
certificate.

A reader must never trust the certificate that travels inside the message
(anyone can sign with their own); it verifies against the sender's
certificate it was given beforehand, and then reads only what the signature
covers (signxml's `signed_xml`), so nothing added around a valid signature
is believed.
"""

from __future__ import annotations

from lxml import etree
from signxml import InvalidInput, InvalidSignature, SignatureConfiguration, XMLSigner, XMLVerifier
from signxml.algorithms import SignatureMethod

from zhili.warning.cap.xml import CapInvalid, _parser


def sign(document: bytes, *, key_pem: bytes, cert_pem: bytes) -> bytes:
    """An enveloped signature (RSA or ECDSA with SHA-256) as the alert's last child."""
    root = etree.fromstring(document, _parser())
    method = SignatureMethod.ECDSA_SHA256 if _is_ec(key_pem) else SignatureMethod.RSA_SHA256
    signed = XMLSigner(signature_algorithm=method).sign(root, key=key_pem.decode(),
                                                        cert=cert_pem.decode())
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def _is_ec(key_pem: bytes) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return isinstance(load_pem_private_key(key_pem, password=None), ec.EllipticCurvePrivateKey)


def verify(document: bytes, *, pinned_cert_pem: bytes) -> bytes:
    """The signed alert as bytes, when its signature verifies against the pinned
    certificate; CapInvalid otherwise (unsigned, altered, or signed by another key)."""
    try:
        root = etree.fromstring(document, _parser())
        # The pinned certificate decides; a certificate inside the message is ignored.
        config = SignatureConfiguration(location="./", ignore_ambiguous_key_info=True)
        result = XMLVerifier().verify(root, x509_cert=pinned_cert_pem.decode(),
                                      expect_config=config)
    except (InvalidSignature, InvalidInput) as exc:
        raise CapInvalid([f"signature: {exc}"]) from None
    except etree.XMLSyntaxError as exc:
        raise CapInvalid([f"not well-formed XML: {exc}"]) from None
    signed = result.signed_xml
    signature = signed.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    if signature is not None:
        signed.remove(signature)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
