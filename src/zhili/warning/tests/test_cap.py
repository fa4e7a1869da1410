"""CAP 1.2: what is published passes the OASIS schema and the profile rules;
what is read is refused with every reason; signatures verify only against the
pinned certificate."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from zhili.warning.cap import signing
from zhili.warning.cap.model import GEOCODE_GB2260, Alert, Area, Info, Reference
from zhili.warning.cap.xml import CapInvalid, check, parse, publishable, render

CST = timezone(timedelta(hours=8))
SENT = datetime(2026, 7, 14, 9, 30, tzinfo=CST)


def rainstorm(**changes) -> Alert:
    ring = [(29.55, 106.55), (29.55, 106.60), (29.58, 106.60), (29.58, 106.55), (29.55, 106.55)]
    info = Info(
        event="暴雨", urgency="Expected", severity="Severe", certainty="Likely", categories=["Met"],
        effective=SENT, expires=SENT + timedelta(hours=6), sender_name="重庆市渝中区应急管理局",
        headline="渝中区暴雨橙色预警", description="未来3小时降雨量将达50毫米以上。",
        instruction="远离低洼地带，停止户外作业。", web="https://zhili.example/cap/alerts/w-1",
        parameters=[("level", "orange")],
        areas=[Area("渝中区解放碑街道", polygons=[ring], circles=[(29.557, 106.577, 2.5)],
                    geocodes=[(GEOCODE_GB2260, "500103001")])],
    )
    alert = Alert(identifier="zhili-w-1", sender="warning@zhili.example", sent=SENT,
                  status="Actual", msg_type="Alert", scope="Public", infos=[info])
    for key, value in changes.items():
        setattr(alert, key, value)
    return alert


def test_a_warning_renders_as_a_publishable_alert_and_reads_back():
    document = publishable(rainstorm())
    assert b"<sent>2026-07-14T09:30:00+08:00</sent>" in document
    assert b"29.55,106.55 29.55,106.6" in document  # lat first
    alert = parse(document)
    assert alert.identifier == "zhili-w-1" and alert.sent == SENT
    info = alert.infos[0]
    assert info.areas[0].geocodes == [(GEOCODE_GB2260, "500103001")]
    assert info.areas[0].circles == [(29.557, 106.577, 2.5)]
    assert info.expires - info.effective == timedelta(hours=6)


def test_times_in_utc_are_written_with_a_numeric_offset():
    document = render(rainstorm(sent=SENT.astimezone(UTC)))
    assert b"<sent>2026-07-14T01:30:00+00:00</sent>" in document
    assert check(document.replace(b"+00:00</sent>", b"Z</sent>"))  # the schema refuses Z


@pytest.mark.parametrize("breakage, reason", [
    (lambda a: a.infos[0].__setattr__("severity", "Bad"), "severity"),
    (lambda a: a.infos[0].__setattr__("expires", None), "<expires> is required"),
    (lambda a: a.infos[0].__setattr__("description", ""), "<description> is required"),
    (lambda a: a.infos[0].__setattr__("web", ""), "<web> is required"),
    (lambda a: a.infos[0].__setattr__("areas", []), "at least one <area>"),
    (lambda a: a.infos[0].__setattr__("expires", SENT - timedelta(hours=1)), "after"),
    (lambda a: a.infos[0].areas[0].polygons.__setitem__(0, [(29.5, 106.5), (29.6, 106.5),
                                                          (29.6, 106.6)]), "at least 4 points"),
    (lambda a: a.infos[0].areas[0].polygons.__setitem__(0, [(29.5, 106.5), (29.6, 106.5),
                                                          (29.6, 106.6), (29.5, 106.6)]), "not closed"),
    (lambda a: a.infos[0].areas[0].polygons.__setitem__(0, [(106.5, 29.5), (106.5, 29.6),
                                                          (106.6, 29.6), (106.5, 29.5)]), "lat comes first"),
    (lambda a: a.__setattr__("msg_type", "Update"), "<references>"),
    (lambda a: a.__setattr__("msg_type", "Cancel"), "<references>"),
    (lambda a: a.__setattr__("restriction", "staff only"), "only for scope Restricted"),
    (lambda a: a.__setattr__("scope", "Restricted"), "needs a <restriction>"),
])
def test_bad_alerts_are_refused_with_the_reason(breakage, reason):
    alert = rainstorm()
    breakage(alert)
    with pytest.raises(CapInvalid) as refused:
        publishable(alert)
    assert any(reason in r for r in refused.value.reasons), refused.value.reasons


def test_an_update_keeps_the_chain_of_references():
    first = rainstorm()
    update = rainstorm(identifier="zhili-w-1-2", msg_type="Update",
                       sent=SENT + timedelta(minutes=30),
                       references=[Reference(first.sender, first.identifier, first.sent)])
    alert = parse(publishable(update))
    assert [(r.identifier, r.sent) for r in alert.references] == [("zhili-w-1", SENT)]


@pytest.mark.parametrize("document, reason", [
    (b"not xml", "well-formed"),
    (b"<alert/>", "root element"),
    (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "boom">]>'
     b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">&x;</alert>', "DOCTYPE"),
    (b"<a>" * 5 + b"</a>" * 5, "root element"),
])
def test_untrusted_documents_are_refused(document, reason):
    with pytest.raises(CapInvalid) as refused:
        parse(document)
    assert reason in refused.value.reasons[0]
    assert "boom" not in str(refused.value)  # no entity was expanded


def test_an_element_out_of_order_is_refused():
    document = render(rainstorm()).replace(b"<status>Actual</status><msgType>Alert</msgType>",
                                           b"<msgType>Alert</msgType><status>Actual</status>")
    assert any("status" in r or "msgType" in r for r in check(document))


# ---------------------------------------------------------------- signatures
def _key_and_cert(name: str, curve: bool = False):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1()) if curve else \
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def city_key():
    return _key_and_cert("Zhili city warnings")


@pytest.fixture(scope="module")
def forger_key():
    return _key_and_cert("someone else", curve=True)


def test_a_signed_alert_verifies_against_the_pinned_certificate(city_key):
    key, cert = city_key
    signed = signing.sign(publishable(rainstorm()), key_pem=key, cert_pem=cert)
    assert check(signed) == []  # the signature sits where the schema allows it
    verified = signing.verify(signed, pinned_cert_pem=cert)
    assert parse(verified).identifier == "zhili-w-1"


def test_a_forged_signature_with_its_own_certificate_inside_is_refused(city_key, forger_key):
    forged = signing.sign(publishable(rainstorm()), key_pem=forger_key[0], cert_pem=forger_key[1])
    with pytest.raises(CapInvalid):
        signing.verify(forged, pinned_cert_pem=city_key[1])


def test_an_altered_alert_is_refused(city_key):
    key, cert = city_key
    signed = signing.sign(publishable(rainstorm()), key_pem=key, cert_pem=cert)
    altered = signed.replace("橙色".encode(), "蓝色".encode())
    with pytest.raises(CapInvalid):
        signing.verify(altered, pinned_cert_pem=cert)
    with pytest.raises(CapInvalid):
        signing.verify(publishable(rainstorm()), pinned_cert_pem=cert)  # unsigned
