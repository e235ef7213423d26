"""The EU DSA Transparency Database's statement-of-reasons schema: the enumerations and limits modq needs (pure).

Copied from the Commission's open-source ``digital-services-act/transparency-database`` at commit
69e80a0bc8eb3cbfbe8246e898194c3bdf490a4b (2026-06-24): ``app/Models/Statement.php`` (the API names, the keys of
its ``*S`` arrays), ``app/Http/Requests/StatementStoreRequest.php`` (the limits) and
``app/Services/EuropeanCountriesService.php`` (the country codes). At the end: checks of a configured value
against them. The categories and keywords are those of the
schema in force since 1 July 2025 (the Implementing Regulation on transparency reporting): the v1 names such as
``STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT`` are refused by the database today. ``KEYWORD_GROUPS`` is
the category -> keywords listing of ``resources/markdown/additional-explanation-for-statement-attributes.md``
(16.); the database itself accepts any keyword with any category.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from moderation.domain.errors import ConfigError

SOURCE_COMMIT = "69e80a0bc8eb3cbfbe8246e898194c3bdf490a4b"

DECISION_FACTS_MAX = 5000
TEXT_MAX = 500  # puid, decision_ground_reference_url, *_ground, *_other, source_identity
EXPLANATION_MAX = 2000  # illegal_content_explanation, incompatible_content_explanation
PUID_CHARS = "a-zA-Z0-9-_"  # regex:/^[a-zA-Z0-9-_]+$/D

DECISION_VISIBILITIES = (
    "DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED", "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED", "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
)
DECISION_GROUND_ILLEGAL = "DECISION_GROUND_ILLEGAL_CONTENT"
DECISION_GROUND_INCOMPATIBLE = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
DECISION_GROUNDS = (DECISION_GROUND_ILLEGAL, DECISION_GROUND_INCOMPATIBLE)
INCOMPATIBLE_CONTENT_ILLEGALS = ("Yes", "No")
CONTENT_TYPES = (
    "CONTENT_TYPE_APP", "CONTENT_TYPE_AUDIO", "CONTENT_TYPE_IMAGE", "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO", "CONTENT_TYPE_OTHER",
)
SOURCE_TYPES = ("SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY")
AUTOMATED_DETECTIONS = ("Yes", "No")  # the values themselves, not keys (Statement::AUTOMATED_DETECTIONS)
AUTOMATED_DECISIONS = ("AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED")

# category -> its keywords (the "Not captured by any high-level category" group's KEYWORD_OTHER goes with any)
KEYWORD_GROUPS: dict[str, tuple[str, ...]] = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE": ("KEYWORD_ANIMAL_HARM", "KEYWORD_UNLAWFUL_SALE_ANIMALS"),
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION": (
        "KEYWORD_HIDDEN_ADVERTISEMENT", "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
        "KEYWORD_MISLEADING_INFO_GOODS_SERVICES", "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
        "KEYWORD_NONCOMPLIANCE_PRICING"),
    "STATEMENT_CATEGORY_CYBER_VIOLENCE": (
        "KEYWORD_CYBER_BULLYING_INTIMIDATION", "KEYWORD_CYBER_HARASSMENT", "KEYWORD_CYBER_INCITEMENT",
        "KEYWORD_CYBER_STALKING", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING", "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"),
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN": (
        "KEYWORD_BULLYING_AGAINST_GIRLS", "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
        "KEYWORD_CYBER_STALKING_AGAINST_WOMEN", "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
        "KEYWORD_INCITEMENT_AGAINST_WOMEN", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN"),
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS": (
        "KEYWORD_BIOMETRIC_DATA_BREACH", "KEYWORD_DATA_FALSIFICATION", "KEYWORD_MISSING_PROCESSING_GROUND",
        "KEYWORD_RIGHT_TO_BE_FORGOTTEN"),
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": ("KEYWORD_DEFAMATION", "KEYWORD_DISCRIMINATION",
                                                     "KEYWORD_HATE_SPEECH"),
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": (
        "KEYWORD_COPYRIGHT_INFRINGEMENT", "KEYWORD_DESIGN_INFRINGEMENT", "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
        "KEYWORD_PATENT_INFRINGEMENT", "KEYWORD_TRADE_SECRET_INFRINGEMENT", "KEYWORD_TRADEMARK_INFRINGEMENT"),
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS": (
        "KEYWORD_MISINFORMATION_DISINFORMATION", "KEYWORD_VIOLATION_EU_LAW", "KEYWORD_VIOLATION_NATIONAL_LAW"),
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE": (),
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC": (
        "KEYWORD_ADULT_SEXUAL_MATERIAL", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS", "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
        "KEYWORD_GOODS_SERVICES_NOT_PERMITTED", "KEYWORD_LANGUAGE_REQUIREMENTS", "KEYWORD_NUDITY"),
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": (
        "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE", "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
        "KEYWORD_UNSAFE_CHALLENGES"),
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY": (
        "KEYWORD_ILLEGAL_ORGANIZATIONS", "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE", "KEYWORD_RISK_PUBLIC_HEALTH",
        "KEYWORD_TERRORIST_CONTENT"),
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": (
        "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING", "KEYWORD_INAUTHENTIC_ACCOUNTS", "KEYWORD_INAUTHENTIC_LISTINGS",
        "KEYWORD_INAUTHENTIC_USER_REVIEWS", "KEYWORD_PHISHING", "KEYWORD_PYRAMID_SCHEMES"),
    "STATEMENT_CATEGORY_SELF_HARM": ("KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS", "KEYWORD_SELF_MUTILATION",
                                     "KEYWORD_SUICIDE"),
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS": ("KEYWORD_PROHIBITED_PRODUCTS", "KEYWORD_UNSAFE_PRODUCTS"),
    "STATEMENT_CATEGORY_VIOLENCE": (
        "KEYWORD_COORDINATED_HARM", "KEYWORD_INCITEMENT_VIOLENCE_HATRED", "KEYWORD_HUMAN_EXPLOITATION",
        "KEYWORD_HUMAN_TRAFFICKING", "KEYWORD_TRAFFICKING_WOMEN_GIRLS"),
}
STATEMENT_CATEGORIES = tuple(KEYWORD_GROUPS)  # the 16 keys of Statement::STATEMENT_CATEGORIES
KEYWORD_OTHER = "KEYWORD_OTHER"
# The 69 keys of Statement::KEYWORDS: the grouped ones, KEYWORD_OTHER, and KEYWORD_STALKING (valid, but in no
# group of the listing). KEYWORD_DANGEROUS_TOYS is a constant there but no longer a valid keyword.
KEYWORDS = tuple(sorted({k for group in KEYWORD_GROUPS.values() for k in group} | {KEYWORD_OTHER, "KEYWORD_STALKING"}))

# EuropeanCountriesService::EUROPEAN_COUNTRY_CODES (= its EEA list: the 27 EU members with IS, LI, NO; Greece
# is GR, not EL), what ``territorial_scope`` accepts.
EEA_COUNTRY_CODES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT", "LI",
    "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
)

# A stricter subset of Laravel's ``url`` rule: http(s), an ASCII host, RFC 3986 characters or %XX escapes.
_CHARS = r"(?:[\w\-.~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*"
_URL = re.compile(rf"https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{{1,5}})?(?:[/?]{_CHARS})?(?:#{_CHARS})?",
                  re.ASCII)


# --- checks of a configured value against the schema (ConfigError naming the key)


def one_of(value: Any, allowed: tuple[str, ...], at: str, what: str) -> str:
    """``value`` if it is one of ``allowed``; else ConfigError, with the closest name when there is one."""
    if isinstance(value, str) and value in allowed:
        return value
    close = difflib.get_close_matches(str(value), allowed, n=1) if isinstance(value, str) else []
    hint = f"did you mean {close[0]}?" if close else f"one of {', '.join(allowed[:4])}, ..."
    raise ConfigError(f"{at}: {value!r} is not {what} of the DSA Transparency Database ({hint})")


def text(value: Any, at: str, limit: int) -> str:
    """Non-empty text within ``limit`` characters (the database trims, so do we)."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{at}: expected non-empty text")
    if len(value) > limit:
        raise ConfigError(f"{at}: {len(value)} characters, at most {limit}")
    return value.strip()


def url(value: Any, at: str) -> str:
    """An http(s) URL that ``decision_ground_reference_url`` accepts."""
    if not isinstance(value, str) or not _URL.fullmatch(value) or len(value) > TEXT_MAX:
        raise ConfigError(f"{at}: {value!r} is not an http(s) URL of at most {TEXT_MAX} characters")
    return value
