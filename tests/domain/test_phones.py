"""Phone numbers: real-world numbers from eight countries, every refusal with its reason."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.phones import (
    InvalidPhone,
    PhoneProblem,
    example_number,
    format_phone,
    is_e164,
    parse_phone,
    region_from_locale_name,
    region_of,
    tel_uri,
)
from console.wire import normalise_phone

# Published numbers of public institutions and well-known switchboards, as
# people write them (spaces, dashes, brackets), and the E.164 they must become.
VALID = [
    pytest.param("+34 913 97 50 00", "+34913975000", "ES", id="ES-madrid-landline"),
    pytest.param("+34 612 34 56 78", "+34612345678", "ES", id="ES-mobile"),
    pytest.param("+44 20 7219 3000", "+442072193000", "GB", id="GB-london-landline"),
    pytest.param("+44 7400 123456", "+447400123456", "GB", id="GB-mobile"),
    pytest.param("+1 (202) 456-1414", "+12024561414", "US", id="US-washington"),
    pytest.param("+1 212-555-0149", "+12125550149", "US", id="US-new-york"),
    pytest.param("+49 30 18 272-0", "+4930182720", "DE", id="DE-berlin"),
    pytest.param("+49 1512 3456789", "+4915123456789", "DE", id="DE-mobile"),
    pytest.param("+91 11 2301 2380", "+911123012380", "IN", id="IN-delhi"),
    pytest.param("+91 98765 43210", "+919876543210", "IN", id="IN-mobile"),
    pytest.param("+81 3-3581-3111", "+81335813111", "JP", id="JP-tokyo"),
    pytest.param("+81 90-1234-5678", "+819012345678", "JP", id="JP-mobile"),
    pytest.param("+31 70 356 4000", "+31703564000", "NL", id="NL-the-hague"),
    pytest.param("+31 6 12345678", "+31612345678", "NL", id="NL-mobile"),
    pytest.param("+61 2 6277 7111", "+61262777111", "AU", id="AU-canberra"),
    pytest.param("+61 412 345 678", "+61412345678", "AU", id="AU-mobile"),
]


@pytest.mark.parametrize(("typed", "e164", "region"), VALID)
def test_real_numbers_become_e164(typed: str, e164: str, region: str) -> None:
    assert parse_phone(typed) == e164
    assert is_e164(e164)
    assert region_of(e164) == region
    # The same number typed the way people at home write it, with their region.
    national = format_phone(e164, region)
    assert not national.startswith("+")
    assert parse_phone(national, region) == e164


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("0044 20 7219 3000", None, "+442072193000"),  # 00 international prefix
        ("020 7219 3000", "GB", "+442072193000"),  # UK national with trunk 0
        ("030 182720", "DE", "+4930182720"),
        ("913 97 50 00", "es", "+34913975000"),  # region case does not matter
        ("(02) 6277 7111", "AU", "+61262777111"),
        ("03-3581-3111", "JP", "+81335813111"),
        ("+31 70 356 4000", "ES", "+31703564000"),  # international wins over the region
        ("  +34 913-975.000 ", None, "+34913975000"),
    ],
)
def test_national_and_prefixed_forms(typed: str, region: str | None, e164: str) -> None:
    assert parse_phone(typed, region) == e164


# (typed, default region, reason, words the message must contain)
INVALID = [
    pytest.param("", None, PhoneProblem.EMPTY, ["is empty"], id="empty"),
    pytest.param("call Ana", None, PhoneProblem.NOT_A_NUMBER, ["no digits"], id="words"),
    pytest.param("+", None, PhoneProblem.NOT_A_NUMBER, ["no digits"], id="plus-only"),
    pytest.param("+34 abc", None, PhoneProblem.NOT_A_NUMBER, ["does not look like"], id="letters"),
    pytest.param(
        "912 34 56 78", None, PhoneProblem.NO_COUNTRY, ["country code is missing"], id="ES-national"
    ),
    pytest.param(
        "+999 1234 5678",
        None,
        PhoneProblem.UNKNOWN_COUNTRY_CODE,
        ["country code", "not one in use"],
        id="country-999",
    ),
    pytest.param("+1 555", None, PhoneProblem.TOO_SHORT, ["too short", "+1 201-555-0123"], id="US"),
    pytest.param("+34 91 234 56", None, PhoneProblem.TOO_SHORT, ["too short", "+34 "], id="ES"),
    pytest.param(
        "+1 212 555 01499", None, PhoneProblem.TOO_LONG, ["too long", "+1 201"], id="US-long"
    ),
    pytest.param(
        "+49 30 1234567890123456", None, PhoneProblem.TOO_LONG, ["too long"], id="DE-16-digits"
    ),
    pytest.param(
        "+61 41234567890",
        None,
        PhoneProblem.WRONG_LENGTH,
        ["wrong number of digits", "+61 412 345 678"],
        id="AU-length",
    ),
    pytest.param(
        "7946 0958", "GB", PhoneProblem.LOCAL_ONLY, ["area code is missing"], id="GB-no-area"
    ),
    pytest.param(
        # Ofcom keeps 07700 900000–900999 for drama: it can never ring anyone.
        "+44 7700 900123",
        None,
        PhoneProblem.NOT_VALID_FOR_REGION,
        ["not a valid number for +44 (GB", "check the digits", "+44 7400 123456"],
        id="GB-drama-range",
    ),
    pytest.param(
        "+91 98765 432101",
        None,
        PhoneProblem.NOT_VALID_FOR_REGION,
        ["not a valid number for +91 (IN)"],
        id="IN-range",
    ),
    pytest.param(
        "+81 90-1234-56789",
        None,
        PhoneProblem.NOT_VALID_FOR_REGION,
        ["+81 (JP)", "+81 90-1234-5678"],
        id="JP-range",
    ),
    pytest.param(
        "+31 6 123456789", None, PhoneProblem.NOT_VALID_FOR_REGION, ["+31 (NL)"], id="NL-range"
    ),
    pytest.param(
        "+44 20 7219 3000 ext. 123",
        None,
        PhoneProblem.EXTENSION,
        ["extension (123)", "direct-dial"],
        id="GB-extension",
    ),
]


@pytest.mark.parametrize(("typed", "region", "problem", "words"), INVALID)
def test_invalid_numbers_are_refused_with_the_reason(
    typed: str, region: str | None, problem: PhoneProblem, words: list[str]
) -> None:
    with pytest.raises(InvalidPhone) as caught:
        parse_phone(typed, region)
    error = caught.value
    assert error.problem is problem
    assert isinstance(error, ValueError)  # callers catching ValueError see it too
    message = str(error)
    assert message.startswith(f"{typed!r} is not a valid phone number: ")
    assert "write it in international form, e.g. +" in message
    for word in words:
        assert word in message, message


def test_numbers_show_nationally_at_home_and_internationally_abroad() -> None:
    madrid = "+34913975000"
    assert format_phone(madrid, "ES") == "913 97 50 00"
    assert format_phone(madrid, "es") == "913 97 50 00"
    assert format_phone(madrid, "GB") == "+34 913 97 50 00"
    assert format_phone(madrid, None) == "+34 913 97 50 00"
    assert format_phone("+442072193000", "GB") == "020 7219 3000"
    assert format_phone("+12024561414", "US") == "(202) 456-1414"
    # Canada shares +1 but is not the viewer's country: international form.
    assert format_phone("+14165550123", "US") == "+1 416-555-0123"
    # A damaged stored value is shown as it is, never hidden.
    assert format_phone("not a number", "ES") == "not a number"


def test_tel_uri_dials_e164_only() -> None:
    assert tel_uri("+34913975000") == "tel:+34913975000"
    for bad in ("913975000", "+34 913 97 50 00", "+0123", "tel:+34913975000", ""):
        with pytest.raises(ValueError, match=r"E\.164"):
            tel_uri(bad)


@pytest.mark.parametrize(
    ("locale", "region"),
    [
        ("es_ES", "ES"),
        ("en-GB", "GB"),
        ("en_US.UTF-8", "US"),
        ("de_DE@euro", "DE"),
        ("zh_Hans_CN", "CN"),
        ("ja_JP", "JP"),
        ("de", None),
        ("C", None),
        ("", None),
        (None, None),
    ],
)
def test_region_from_locale_name(locale: str | None, region: str | None) -> None:
    assert region_from_locale_name(locale) == region


def test_examples_are_valid_numbers_of_their_country() -> None:
    for region in ("ES", "GB", "US", "DE", "IN", "JP", "NL", "AU"):
        sample = example_number(region)
        assert region_of(parse_phone(sample)) == region
    assert example_number(None) == "+34 912 345 678"


@pytest.mark.parametrize(
    "typed",
    [
        "+34 913 97 50 00",
        "+44 20 7219 3000",
        "+1 (202) 456-1414",
        "+81 3-3581-3111",
        "+61 2 6277 7111",
        "+1 555",
        "+44 7700 900123",
        "+999 1234 5678",
        "+61 41234567890",
        "912 34 56 78",
    ],
)
def test_the_wire_schema_agrees(typed: str) -> None:
    """The server's check (wire.normalise_phone) and this one accept the same numbers.

    Both exist until the wire delegates to console.domain.phones; this keeps them from drifting.
    """
    try:
        ours: str | None = parse_phone(typed)
    except InvalidPhone:
        ours = None
    try:
        theirs: str | None = normalise_phone(typed)
    except ValueError:
        theirs = None
    assert ours == theirs


REGIONS = ("ES", "GB", "US", "DE", "IN", "JP", "NL", "AU", "FR", "BR", "ZA", "SG")
KINDS = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)


@settings(max_examples=60, deadline=None)
@given(
    region=st.sampled_from(REGIONS),
    viewer=st.sampled_from((*REGIONS, None)),
    kind=st.sampled_from(KINDS),
)
def test_what_is_shown_parses_back_to_the_same_number(
    region: str, viewer: str | None, kind: phonenumbers.PhoneNumberType
) -> None:
    """Whatever form a viewer sees, typing it back (with their region) gives the stored number."""
    sample = phonenumbers.example_number_for_type(region, kind)
    assert sample is not None
    e164 = phonenumbers.format_number(sample, phonenumbers.PhoneNumberFormat.E164)
    assert parse_phone(e164) == e164
    shown = format_phone(e164, viewer)
    assert parse_phone(shown, viewer) == e164
