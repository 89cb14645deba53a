"""Phone numbers for the people the NOC calls: parsed, validated, stored as E.164.

A number is stored in one form only, E.164 (``+34912345678``): unambiguous from
any country, what ``tel:`` links and phone systems expect, and what the wire
schema carries. It is shown in the viewer's *national* form when the number is
in the viewer's own country (``912 34 56 78`` for a viewer in Spain) and in
*international* form otherwise (``+34 912 34 56 78`` for everyone else), so a
dispatcher dials what they read.

Whatever the operator typed that is not a number the console can dial is
refused with :class:`InvalidPhone`, whose message says why (too short, unknown
country code, no such number range in that country …) and what to write
instead, with an example for the country concerned.

No Qt here: the view layer passes the viewer's region in (from the settings or
``QLocale``; :func:`region_from_locale_name` turns a locale name into one).
"""

from __future__ import annotations

import enum
import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, ValidationResult

E164_RE = re.compile(r"^\+[1-9][0-9]{1,14}$")
"""What a stored number looks like: ``+``, a country code and at most 15 digits."""

DEFAULT_EXAMPLE = "+34 912 345 678"
"""The example given when the country is unknown (a Madrid landline)."""

# Longer than any phone number plus its spacing; refused before phonenumbers
# spends time on pasted paragraphs.
_MAX_INPUT = 64


class PhoneProblem(enum.Enum):
    """Why a number was refused; the message in :class:`InvalidPhone` says it in words."""

    EMPTY = "empty"
    NOT_A_NUMBER = "not_a_number"
    NO_COUNTRY = "no_country"
    UNKNOWN_COUNTRY_CODE = "unknown_country_code"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    WRONG_LENGTH = "wrong_length"
    LOCAL_ONLY = "local_only"
    NOT_VALID_FOR_REGION = "not_valid_for_region"
    EXTENSION = "extension"


class InvalidPhone(ValueError):
    """A phone number the console cannot store, with the reason and what to do.

    ``text`` is what was typed, ``problem`` the machine-readable reason,
    ``reason`` the reason in words (e.g. ``too short``), ``region`` the
    country the number seems to belong to (``ES``), when known, and
    ``example`` a valid number in international form to copy the shape from.
    """

    def __init__(
        self, text: str, problem: PhoneProblem, reason: str, *, region: str | None = None
    ) -> None:
        self.text = text
        self.problem = problem
        self.reason = reason
        self.region = region
        self.example = example_number(region)
        super().__init__(
            f"{text!r} is not a valid phone number: {reason}; "
            f"write it in international form, e.g. {self.example}"
        )


def example_number(region: str | None) -> str:
    """A valid number of ``region`` in international form (a mobile when it has them)."""
    if region:
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            sample = phonenumbers.example_number_for_type(region.upper(), kind)
            if sample is not None:
                return str(phonenumbers.format_number(sample, PhoneNumberFormat.INTERNATIONAL))
    return DEFAULT_EXAMPLE


def _country(code: int | None) -> str:
    """``+34 (ES)``, or ``+1 (US, CA, …)`` for a shared code: how a message names a country."""
    if not code:
        return "this country"
    regions = [r for r in phonenumbers.region_codes_for_country_code(code) if r != "001"]
    if not regions:
        return f"+{code}"
    shown = ", ".join(regions[:3]) + (", …" if len(regions) > 3 else "")
    return f"+{code} ({shown})"


def parse_phone(text: str, default_region: str | None = None) -> str:
    """``text`` as an E.164 number (``+34912345678``), or :class:`InvalidPhone` saying why.

    Without ``default_region`` the number must be international: ``+`` (or the
    ``00`` international prefix) and the country code. With it (``"ES"``), a
    national number such as ``912 34 56 78`` is read as that country's.
    Spaces, dashes, dots and brackets are allowed anywhere. Extensions are
    refused, because E.164 (and a ``tel:`` link a phone dials) cannot carry one.
    """
    if not isinstance(text, str):
        raise TypeError(f"a phone number is text, not {type(text).__name__}")
    typed = text
    text = text.strip()
    region = default_region.upper() if default_region else None
    if not text:
        raise InvalidPhone(typed, PhoneProblem.EMPTY, "it is empty", region=region)
    if len(text) > _MAX_INPUT:
        raise InvalidPhone(
            typed[:_MAX_INPUT] + "…",
            PhoneProblem.TOO_LONG,
            f"it is longer than {_MAX_INPUT} characters",
            region=region,
        )
    if not any(ch.isdigit() for ch in text):
        raise InvalidPhone(
            typed,
            PhoneProblem.NOT_A_NUMBER,
            "it has no digits (digits, spaces, + and - only)",
            region=region,
        )
    if region is None and text.startswith("00"):
        # "00" is the international prefix in most of the world (not North
        # America's 011); without a home region there is no other reading.
        text = "+" + text[2:]
    if region is None and not text.startswith("+"):
        raise InvalidPhone(
            typed,
            PhoneProblem.NO_COUNTRY,
            "the country code is missing (start with + and the country code)",
        )
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise _parse_error(typed, exc, region) from None
    return _checked(typed, number)


def _parse_error(typed: str, exc: NumberParseException, region: str | None) -> InvalidPhone:
    kinds = NumberParseException
    if exc.error_type == kinds.INVALID_COUNTRY_CODE:
        if region is None or typed.strip().startswith(("+", "00")):
            return InvalidPhone(
                typed,
                PhoneProblem.UNKNOWN_COUNTRY_CODE,
                "the country code after + is not one in use",
                region=region,
            )
        return InvalidPhone(
            typed,
            PhoneProblem.NO_COUNTRY,
            f"{region} is not a country with phone numbers, so the country code is missing",
        )
    if exc.error_type in (kinds.TOO_SHORT_NSN, kinds.TOO_SHORT_AFTER_IDD):
        return InvalidPhone(typed, PhoneProblem.TOO_SHORT, "it is too short", region=region)
    if exc.error_type == kinds.TOO_LONG:
        return InvalidPhone(typed, PhoneProblem.TOO_LONG, "it is too long", region=region)
    return InvalidPhone(
        typed,
        PhoneProblem.NOT_A_NUMBER,
        "it does not look like a phone number (digits, spaces, + and - only)",
        region=region,
    )


_LENGTH_PROBLEMS = {
    ValidationResult.INVALID_COUNTRY_CODE: (
        PhoneProblem.UNKNOWN_COUNTRY_CODE,
        "the country code after + is not one in use",
    ),
    ValidationResult.TOO_SHORT: (PhoneProblem.TOO_SHORT, "it is too short"),
    ValidationResult.TOO_LONG: (PhoneProblem.TOO_LONG, "it is too long"),
    ValidationResult.INVALID_LENGTH: (
        PhoneProblem.WRONG_LENGTH,
        "it has the wrong number of digits",
    ),
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: (
        PhoneProblem.LOCAL_ONLY,
        "the area code is missing (it can only be dialled locally)",
    ),
}


def _checked(typed: str, number: PhoneNumber) -> str:
    code = number.country_code
    regions = phonenumbers.region_codes_for_country_code(code) if code else ()
    region = regions[0] if regions and regions[0] != "001" else None
    if number.extension:
        raise InvalidPhone(
            typed,
            PhoneProblem.EXTENSION,
            f"it has an extension ({number.extension}), which a stored number cannot "
            "carry; give the direct-dial number",
            region=region,
        )
    length = phonenumbers.is_possible_number_with_reason(number)
    if length in _LENGTH_PROBLEMS:
        problem, reason = _LENGTH_PROBLEMS[length]
        raise InvalidPhone(typed, problem, reason, region=region)
    if not phonenumbers.is_valid_number(number):
        # The length fits, but no such range is allocated in that country
        # (e.g. UK 07700 900xxx, reserved for drama).
        raise InvalidPhone(
            typed,
            PhoneProblem.NOT_VALID_FOR_REGION,
            f"it is not a valid number for {_country(code)}: no such number range; "
            "check the digits",
            region=region,
        )
    e164 = str(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    if not is_e164(e164):
        # A few countries' plans allow numbers longer than E.164's 15 digits.
        raise InvalidPhone(
            typed, PhoneProblem.TOO_LONG, "it is too long (at most 15 digits)", region=region
        )
    return e164


def is_e164(value: object) -> bool:
    """Whether ``value`` has the stored form (``+`` and up to 15 digits); not a validity check."""
    return isinstance(value, str) and E164_RE.match(value) is not None


def region_of(e164: str) -> str | None:
    """The country (``ES``) a stored number belongs to; None if it cannot be told."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    return None if region in (None, "ZZ", "001") else str(region)


def format_phone(e164: str, viewer_region: str | None) -> str:
    """How ``e164`` is shown to a viewer in ``viewer_region`` (``"ES"``; None: unknown).

    National form for a number in the viewer's own country, international form
    otherwise. Something that does not parse (a damaged record) is shown as it
    is rather than hidden: at 2 a.m. a number with odd spacing beats none.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    home = viewer_region.upper() if viewer_region else None
    if home is not None and phonenumbers.region_code_for_number(number) == home:
        return str(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    return str(phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL))


def tel_uri(e164: str) -> str:
    """The RFC 3966 ``tel:`` URI that dials ``e164`` (``tel:+34912345678``)."""
    if not is_e164(e164):
        raise ValueError(f"{e164!r} is not a stored E.164 number (+ and up to 15 digits)")
    return f"tel:{e164}"


def region_from_locale_name(name: str | None) -> str | None:
    """The country of a locale name: ``es_ES`` → ``ES``, ``en-GB`` → ``GB``; None for ``C``.

    A language-only locale (``de``) names no country, so None: numbers are
    then shown in international form, which is never wrong.
    """
    if not name:
        return None
    base = name.split(".")[0].split("@")[0]
    parts = re.split(r"[_-]", base)
    for part in parts[1:]:
        if len(part) == 2 and part.isalpha():
            region = part.upper()
            if phonenumbers.country_code_for_region(region):
                return region
    return None
