"""National identifiers with check characters: validate, normalise, and make them.

- Resident identity number (居民身份证号码), GB 11643-1999: 6-digit region
  code, 8-digit birth date, 3-digit sequence (odd = male), and an
  ISO 7064 MOD 11-2 check character (0-9 or X).
- Unified social credit code (统一社会信用代码), GB 32100-2015: registration
  authority and organisation type (2 characters), 6-digit region code, 9-character
  body (the GB 11714 organisation code), and a MOD 31 check character, all
  from the 31-character set without I, O, Z, S, V.

Both checks catch every single-character substitution: the weights are
non-zero modulo a prime (11, 31) larger than any difference of two
character values, so changing one character always changes the sum.
What is checked beyond the check character is listed in docs/registry.md.
"""

from __future__ import annotations

import re
from datetime import date

from django.utils.translation import gettext as _

# --- resident identity number (GB 11643) ---------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# The check character for (weighted sum mod 11): (12 - sum) mod 11, with 10 written as X.
ID_CHECK_CHARS = "10X98765432"

# GB/T 2260 province-level codes (the first two digits). 81, 82, 83 are the
# prefixes of residence permits for Hong Kong, Macao and Taiwan residents,
# which share the GB 11643 format; 71 is listed in GB/T 2260 for Taiwan.
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
EARLIEST_BIRTH_YEAR = 1900

_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


class IdentifierError(ValueError):
    """The value is not a valid identifier; the message says why (for the 422)."""


def id_number_check_char(body: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    if len(body) != 17 or not body.isascii() or not body.isdigit():
        raise IdentifierError(_("the body of an identity number is 17 digits"))
    total = sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def id_number_normalise(raw: str) -> str:
    """Trim spaces and upper-case the check character (a lower-case x is common)."""
    return (raw or "").strip().replace(" ", "").upper()


def id_number_birth_date(number: str) -> date:
    """The birth date in positions 7-14 (raises IdentifierError if it is no date)."""
    digits = number[6:14]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise IdentifierError(_("positions 7-14 (%(digits)s) are not a valid birth date")
                              % {"digits": digits}) from None


def id_number_validate(raw: str, *, today: date | None = None) -> str:
    """Return the normalised number, or raise IdentifierError saying what is wrong."""
    number = id_number_normalise(raw)
    if len(number) != 18:
        raise IdentifierError(_("an identity number has 18 characters, not %(n)d")
                              % {"n": len(number)})
    if not number.isascii() or not _ID_SHAPE.match(number):
        raise IdentifierError(_("an identity number is 17 digits followed by a digit or X"))
    if number[:2] not in PROVINCE_CODES:
        raise IdentifierError(_("region code %(code)s does not start with a province code")
                              % {"code": number[:6]})
    if number[2:6] == "0000":
        raise IdentifierError(_("region code %(code)s names a province, not a county")
                              % {"code": number[:6]})
    born = id_number_birth_date(number)
    today = today or date.today()
    if born.year < EARLIEST_BIRTH_YEAR or born > today:
        raise IdentifierError(_("birth date %(date)s is not plausible") % {"date": born.isoformat()})
    expected = id_number_check_char(number[:17])
    if number[17] != expected:
        raise IdentifierError(_("the check digit is wrong (GB 11643, ISO 7064 MOD 11-2)"))
    return number


def id_number_is_valid(raw: str, *, today: date | None = None) -> bool:
    try:
        id_number_validate(raw, today=today)
    except IdentifierError:
        return False
    return True


def id_number_make(region: str, born: date, sequence: int) -> str:
    """A valid number for a region code, birth date and sequence (0-999; odd = male)."""
    if not (len(region) == 6 and region.isdigit()) or not 0 <= sequence <= 999:
        raise IdentifierError(_("region is 6 digits and sequence 0-999"))
    body = f"{region}{born:%Y%m%d}{sequence:03d}"
    return body + id_number_check_char(body)


# --- unified social credit code (GB 32100) -------------------------------------------------

CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_VALUES = {c: i for i, c in enumerate(CREDIT_CHARSET)}
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# Registration authority (position 1) -> organisation types it registers (position 2),
# from GB 32100-2015 table 1 and its later additions (A: military, N: agriculture).
CREDIT_AUTHORITY_TYPES: dict[str, str] = {
    "1": "1239",  # institutional staffing: organs, public institutions, mass organisations, other
    "2": "19",  # foreign affairs: foreign news agencies, other
    "3": "1234569",  # justice: law firms, notaries, legal services, forensics, arbitration, other
    "4": "19",  # culture: foreign cultural centres, other
    "5": "1239",  # civil affairs: social organisations, private non-enterprise units, foundations
    "6": "129",  # tourism: foreign and HK/Macao/Taiwan tourism offices, other
    "7": "129",  # religion: religious venues, religious colleges, other
    "8": "19",  # trade unions: grass-roots unions, other
    "9": "123",  # market regulation: enterprises, individual businesses, farmers' cooperatives
    "A": "19",  # Central Military Commission staffing: military public institutions, other
    "N": "1239",  # agriculture: collective economic organisations (group, village, town), other
    "Y": "1",  # other authorities
}

# GB 11714 organisation code (positions 9-17): 8 characters and a MOD 11 check.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code_check_char(body: str) -> str:
    """The GB 32100 check character for the first 17 characters."""
    if len(body) != 17 or any(c not in CREDIT_VALUES for c in body):
        raise IdentifierError(_("the body of a credit code is 17 characters of the GB 32100 set"))
    total = sum(CREDIT_VALUES[c] * w for c, w in zip(body, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def org_code_check_char(body: str) -> str:
    """The GB 11714 check character of an organisation code's first 8 characters."""
    if len(body) != 8 or not all(c.isdigit() or "A" <= c <= "Z" for c in body):
        raise IdentifierError(_("an organisation code body is 8 digits or capital letters"))
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w
                for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def credit_code_normalise(raw: str) -> str:
    return (raw or "").strip().replace(" ", "").upper()


def credit_code_validate(raw: str) -> str:
    """Return the normalised code, or raise IdentifierError saying what is wrong."""
    code = credit_code_normalise(raw)
    if len(code) != 18:
        raise IdentifierError(_("a credit code has 18 characters, not %(n)d") % {"n": len(code)})
    bad = sorted({c for c in code if c not in CREDIT_VALUES})
    if bad:
        raise IdentifierError(
            _("characters %(chars)r are not allowed (the set has no I, O, Z, S, V)")
            % {"chars": "".join(bad)}
        )
    types = CREDIT_AUTHORITY_TYPES.get(code[0])
    if types is None:
        raise IdentifierError(_("%(c)r is not a registration authority code") % {"c": code[0]})
    if code[1] not in types:
        raise IdentifierError(_("%(t)r is not an organisation type of authority %(a)r")
                              % {"t": code[1], "a": code[0]})
    if not code[2:8].isdigit():
        raise IdentifierError(_("positions 3-8 are the 6-digit region code"))
    if code[17] != credit_code_check_char(code[:17]):
        raise IdentifierError(_("the check character is wrong (GB 32100)"))
    return code


def credit_code_is_valid(raw: str) -> bool:
    try:
        credit_code_validate(raw)
    except IdentifierError:
        return False
    return True


def credit_code_make(authority_type: str, region: str, org_body: str) -> str:
    """A valid code from authority+type ("91"), a region ("500103") and an 8-char body.

    The body gets its GB 11714 check character, then the whole its GB 32100 one.
    """
    org_code = org_body + org_code_check_char(org_body)
    body = f"{authority_type}{region}{org_code}"
    code = body + credit_code_check_char(body)
    return credit_code_validate(code)
