from __future__ import annotations

import pytest

from app.accounts.validation import FieldError, check_postal_code, clean_text, normalise_email


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Ada@Example.COM ", "ada@example.com"),
        ("\uff41\uff44\uff41@example.com", "ada@example.com"),  # full-width letters (NFKC)
        ("o'brien+shop@mail.example.co.uk", "o'brien+shop@mail.example.co.uk"),
        ("jürgen@bücher.de", "jürgen@bücher.de"),
    ],
    ids=["case-and-spaces", "full-width", "plus-and-apostrophe", "unicode"],
)
def test_emails_are_normalised_to_one_spelling(typed: str, stored: str) -> None:
    assert normalise_email(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "ada..x@example.com",
     "ada@-example.com", "<script>@example.com", "a" * 65 + "@example.com"],
    ids=["empty", "no-at", "no-domain", "no-local", "no-tld", "space", "double-dot",
         "hyphen-domain", "markup", "long-local"],
)  # fmt: skip
def test_bad_emails_get_a_field_error(typed: str) -> None:
    with pytest.raises(FieldError) as error:
        normalise_email(typed)

    assert error.value.field == "email"


@pytest.mark.parametrize(
    ("country", "code", "expected"),
    [("de", "10115", ("DE", "10115")), ("NL", "1012ab", ("NL", "1012AB")),
     ("GB", "sw1a 1aa", ("GB", "SW1A 1AA")), ("US", "94105-1234", ("US", "94105-1234"))],
    ids=["germany", "netherlands", "uk", "us-zip4"],
)  # fmt: skip
def test_postal_codes_follow_their_country(
    country: str, code: str, expected: tuple[str, str]
) -> None:
    assert check_postal_code(country, code) == expected


def test_a_postal_code_of_another_country_is_refused_with_an_example() -> None:
    with pytest.raises(FieldError, match=r"not a postal code in Germany \(like 10115\)"):
        check_postal_code("DE", "SW1A 1AA")


def test_an_unknown_country_is_refused() -> None:
    with pytest.raises(FieldError) as error:
        check_postal_code("XX", "12345")

    assert error.value.field == "country"


def test_control_characters_and_overlong_text_are_refused() -> None:
    with pytest.raises(FieldError, match="invisible or control"):
        clean_text("Ada\u202eLovelace", "full_name", max_length=120)
    with pytest.raises(FieldError, match="120 characters or fewer"):
        clean_text("x" * 121, "full_name", max_length=120)
