"""The validation rules of the EU DSA Transparency Database API, for modq's tests (issue 18).

Copied from https://github.com/digital-services-act/transparency-database at commit
69e80a0bc8eb3cbfbe8246e898194c3bdf490a4b (2026-06-24):

* enumerations: ``app/Models/Statement.php`` (the keys of the ``Statement::*`` arrays are what the API accepts),
  ``app/Services/EuropeanCountriesService.php`` (``EUROPEAN_COUNTRY_CODES``),
  ``app/Services/EuropeanLanguagesService.php`` (``ALL_LANGUAGES``);
* rules and custom messages: ``app/Http/Requests/StatementStoreRequest.php`` (``POST /api/v1/statement``) and
  ``GroupedSubmissionsService::multi_rules()`` in ``app/Services/GroupedSubmissionsService.php``
  (``POST /api/v1/statements``: the same rules, but ``source_identity`` is never excluded and the "other" conditions
  only look at real arrays -- see ``multi=`` below);
* the rule engine follows Laravel v12.58.0 (the version in the project's composer.lock):
  ``Illuminate/Validation/Validator.php`` and ``Concerns/ValidatesAttributes.php``, default English messages from
  ``Illuminate/Translation/lang/en/validation.php``; the project has no ``lang/en`` of its own.

Before validation Laravel's global middleware ``TrimStrings`` and ``ConvertEmptyStringsToNull`` rewrite the JSON body
(recursively): strings are trimmed, then ``""`` becomes ``null``. :func:`validate_statement` applies them first
(``middleware=True``), so ``" TK421 "`` is a valid puid (stored as ``"TK421"``) and ``"puid": ""`` is *missing*.

Laravel semantics reproduced here (they matter to a statement builder):

* rules run in the order written; a field's rules stop after a failed *implicit* rule (``required*``); ``nullable``
  skips the non-implicit rules when the value is ``null``; non-implicit rules are skipped when the field is absent;
* ``exclude_unless`` / ``Rule::excludeIf`` drop the field from the validated data and stop its *later* rules, but
  (Laravel 12) errors raised by the rules *before* them stay: ``incompatible_content_illegal`` is
  ``[in:Yes,No, exclude_unless:...]`` so ``"incompatible_content_illegal": null`` (or ``""``) is an error even with
  ``DECISION_GROUND_ILLEGAL_CONTENT``; ``decision_visibility_other``/``content_type_other``/``source_identity`` are
  ``[max:500, ...exclude]`` so a 501-character value is an error even when the field is not needed;
* ``in:`` on an array field (``array`` rule present) checks every element (compared as PHP strings, so ``1`` and
  ``"1"`` are alike); on a non-array field an array value fails; the "nullable" enumerations are written
  ``in:null,...`` so the *string* ``"null"`` is accepted there;
* ``required`` fails on ``null``, whitespace-only strings and empty arrays; ``required_without_all`` treats the
  others the same way, so ``"decision_visibility": []`` counts as absent;
* JSON objects are PHP arrays too: ``{"a": "CONTENT_TYPE_TEXT"}`` passes ``array`` + ``in:`` like a list;
* ``max`` counts characters (code points) of strings, items of arrays;
* ``date_format:Y-m-d`` wants a real calendar date written ``YYYY-MM-DD``; the bounds (``after_or_equal``,
  ``before_or_equal``) are checked separately and, for a value that is not ``Y-m-d``, Laravel falls back to
  Carbon's free-form parser -- approximated here by ISO 8601 and a few common layouts (a value neither understands
  fails the bounds too, as in Laravel).

Every message names the field as Laravel does (``decision_ground`` -> "decision ground"), and the custom messages of
``StatementStoreRequest::messages()`` are used where Laravel would use them (``Rule::requiredIf`` compiles to
``required``, so the custom ``*_other.required_if`` texts of ``decision_visibility_other`` and ``content_type_other``
never show: those say "The decision visibility other field is required.").
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import regex as _regex

SOURCE_REPOSITORY = "https://github.com/digital-services-act/transparency-database"
SOURCE_COMMIT = "69e80a0bc8eb3cbfbe8246e898194c3bdf490a4b"

# Statement::DECISION_VISIBILITIES
DECISION_VISIBILITIES: dict[str, str] = {'DECISION_VISIBILITY_CONTENT_REMOVED': 'Removal of content',
 'DECISION_VISIBILITY_CONTENT_DISABLED': 'Disabling access to content',
 'DECISION_VISIBILITY_CONTENT_DEMOTED': 'Demotion of content',
 'DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED': 'Age restricted content',
 'DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED': 'Restricting interaction with content',
 'DECISION_VISIBILITY_CONTENT_LABELLED': 'Labelled content',
 'DECISION_VISIBILITY_OTHER': 'Other restriction (please specify)'}

# Statement::DECISION_MONETARIES
DECISION_MONETARIES: dict[str, str] = {'DECISION_MONETARY_SUSPENSION': 'Suspension of monetary payments',
 'DECISION_MONETARY_TERMINATION': 'Termination of monetary payments',
 'DECISION_MONETARY_OTHER': 'Other restriction (please specify)'}

# Statement::DECISION_PROVISIONS
DECISION_PROVISIONS: dict[str, str] = {'DECISION_PROVISION_PARTIAL_SUSPENSION': 'Partial suspension of the provision of the service',
 'DECISION_PROVISION_TOTAL_SUSPENSION': 'Total suspension of the provision of the service',
 'DECISION_PROVISION_PARTIAL_TERMINATION': 'Partial termination of the provision of the service',
 'DECISION_PROVISION_TOTAL_TERMINATION': 'Total termination of the provision of the service'}

# Statement::DECISION_ACCOUNTS
DECISION_ACCOUNTS: dict[str, str] = {'DECISION_ACCOUNT_SUSPENDED': 'Suspension of the account',
 'DECISION_ACCOUNT_TERMINATED': 'Termination of the account'}

# Statement::ACCOUNT_TYPES
ACCOUNT_TYPES: dict[str, str] = {'ACCOUNT_TYPE_BUSINESS': 'Business', 'ACCOUNT_TYPE_PRIVATE': 'Private'}

# Statement::KEYWORDS
KEYWORDS: dict[str, str] = {'KEYWORD_ADULT_SEXUAL_MATERIAL': 'Adult sexual material',
 'KEYWORD_AGE_SPECIFIC_RESTRICTIONS': 'Age-specific restrictions',
 'KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS': 'Age-specific restrictions concerning minors',
 'KEYWORD_ANIMAL_HARM': 'Animal harm',
 'KEYWORD_BIOMETRIC_DATA_BREACH': 'Biometric data breach',
 'KEYWORD_BULLYING_AGAINST_GIRLS': 'Cyber bullying and intimidation against girls',
 'KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL': 'Child sexual abuse material',
 'KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE': 'Child sexual abuse material containing deepfake or similar '
                                                 'technology',
 'KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS': 'Content promoting eating disorders',
 'KEYWORD_COORDINATED_HARM': 'Coordinated harm',
 'KEYWORD_COPYRIGHT_INFRINGEMENT': 'Copyright infringements',
 'KEYWORD_CYBER_BULLYING_INTIMIDATION': 'Cyber bullying and intimidation',
 'KEYWORD_CYBER_HARASSMENT': 'Cyber harassment',
 'KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN': 'Cyber harassment against women',
 'KEYWORD_CYBER_INCITEMENT': 'Cyber incitement to hatred or violence',
 'KEYWORD_CYBER_STALKING': 'Cyber stalking',
 'KEYWORD_CYBER_STALKING_AGAINST_WOMEN': 'Cyber stalking against women',
 'KEYWORD_DATA_FALSIFICATION': 'Data falsification',
 'KEYWORD_DEFAMATION': 'Defamation',
 'KEYWORD_DESIGN_INFRINGEMENT': 'Design infringements',
 'KEYWORD_DISCRIMINATION': 'Discrimination',
 'KEYWORD_FEMALE_GENDERED_DISINFORMATION': 'Gendered disinformation',
 'KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT': 'Geographic indications infringements',
 'KEYWORD_GEOGRAPHICAL_REQUIREMENTS': 'Geographical requirements',
 'KEYWORD_GOODS_SERVICES_NOT_PERMITTED': 'Goods/services not permitted to be offered on the platform',
 'KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS': 'Grooming/sexual enticement of minors',
 'KEYWORD_HATE_SPEECH': 'Illegal incitement to violence and hatred based on protected characteristics (hate speech)',
 'KEYWORD_HIDDEN_ADVERTISEMENT': 'Hidden advertisement or commercial communication, including by influencers',
 'KEYWORD_HUMAN_EXPLOITATION': 'Human exploitation',
 'KEYWORD_HUMAN_TRAFFICKING': 'Human trafficking',
 'KEYWORD_ILLEGAL_ORGANIZATIONS': 'Illegal organizations',
 'KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING': 'Impersonation or account hijacking',
 'KEYWORD_INAUTHENTIC_ACCOUNTS': 'Inauthentic accounts',
 'KEYWORD_INAUTHENTIC_LISTINGS': 'Inauthentic listings',
 'KEYWORD_INAUTHENTIC_USER_REVIEWS': 'Inauthentic user reviews',
 'KEYWORD_INCITEMENT_AGAINST_WOMEN': 'Illegal incitement to violence and hatred against women',
 'KEYWORD_INCITEMENT_VIOLENCE_HATRED': 'General calls or incitement to violence and/or hatred',
 'KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS': 'Insufficient information on traders',
 'KEYWORD_LANGUAGE_REQUIREMENTS': 'Language requirements',
 'KEYWORD_MISINFORMATION_DISINFORMATION': 'Misinformation, disinformation, foreign information manipulation and '
                                          'interference',
 'KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS': "Misleading information about the consumer's rights",
 'KEYWORD_MISLEADING_INFO_GOODS_SERVICES': 'Misleading information about the characteristics of the goods and '
                                           'services',
 'KEYWORD_MISSING_PROCESSING_GROUND': 'Missing processing ground for data',
 'KEYWORD_NON_CONSENSUAL_IMAGE_SHARING': 'Non-consensual (intimate) material sharing, including (image-based) sexual '
                                         'abuse (excluding content depicting minors)',
 'KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN': 'Non-consensual (intimate) material sharing against women, '
                                                       'including (image-based) sexual abuse against women '
                                                       '(excluding content depicting minors)',
 'KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE': 'Non-consensual sharing of material containing deepfake or similar '
                                             "technology using a third party's features (excluding content depicting "
                                             'minors)',
 'KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN': 'Non-consensual sharing of material containing deepfake '
                                                           "or similar technology using a third party's features "
                                                           'against women (excluding content depicting minors)',
 'KEYWORD_NONCOMPLIANCE_PRICING': 'Non-compliance with pricing regulations',
 'KEYWORD_NUDITY': 'Nudity',
 'KEYWORD_PATENT_INFRINGEMENT': 'Patent infringements',
 'KEYWORD_PHISHING': 'Phishing',
 'KEYWORD_PROHIBITED_PRODUCTS': 'Prohibited or restricted products',
 'KEYWORD_PYRAMID_SCHEMES': 'Pyramid schemes',
 'KEYWORD_RIGHT_TO_BE_FORGOTTEN': 'Right to be forgotten',
 'KEYWORD_RISK_ENVIRONMENTAL_DAMAGE': 'Risk for environmental damage',
 'KEYWORD_RISK_PUBLIC_HEALTH': 'Risk for public health',
 'KEYWORD_SELF_MUTILATION': 'Self-mutilation',
 'KEYWORD_STALKING': 'Stalking',
 'KEYWORD_SUICIDE': 'Suicide',
 'KEYWORD_TERRORIST_CONTENT': 'Terrorist content',
 'KEYWORD_TRADE_SECRET_INFRINGEMENT': 'Trade secret infringements',
 'KEYWORD_TRADEMARK_INFRINGEMENT': 'Trademark infringements',
 'KEYWORD_TRAFFICKING_WOMEN_GIRLS': 'Trafficking in women and girls',
 'KEYWORD_UNLAWFUL_SALE_ANIMALS': 'Unlawful sale of animals',
 'KEYWORD_UNSAFE_CHALLENGES': 'Unsafe challenges',
 'KEYWORD_UNSAFE_PRODUCTS': 'Unsafe or non-compliant products',
 'KEYWORD_VIOLATION_EU_LAW': 'Violation of EU law relevant to civic discourse or elections',
 'KEYWORD_VIOLATION_NATIONAL_LAW': 'Violation of national law relevant to civic discourse or elections',
 'KEYWORD_OTHER': 'Not captured by any other keyword'}

# Statement::DECISION_GROUNDS
DECISION_GROUNDS: dict[str, str] = {'DECISION_GROUND_ILLEGAL_CONTENT': 'Illegal Content',
 'DECISION_GROUND_INCOMPATIBLE_CONTENT': 'Content incompatible with terms and conditions'}

# Statement::INCOMPATIBLE_CONTENT_ILLEGALS
INCOMPATIBLE_CONTENT_ILLEGALS: list[str] = ['Yes', 'No']

# Statement::CONTENT_TYPES
CONTENT_TYPES: dict[str, str] = {'CONTENT_TYPE_APP': 'App',
 'CONTENT_TYPE_AUDIO': 'Audio',
 'CONTENT_TYPE_IMAGE': 'Image',
 'CONTENT_TYPE_PRODUCT': 'Product',
 'CONTENT_TYPE_SYNTHETIC_MEDIA': 'Synthetic Media',
 'CONTENT_TYPE_TEXT': 'Text',
 'CONTENT_TYPE_VIDEO': 'Video',
 'CONTENT_TYPE_OTHER': 'Other'}

# Statement::STATEMENT_CATEGORIES
STATEMENT_CATEGORIES: dict[str, str] = {'STATEMENT_CATEGORY_ANIMAL_WELFARE': 'Animal welfare',
 'STATEMENT_CATEGORY_CONSUMER_INFORMATION': 'Consumer information infringements',
 'STATEMENT_CATEGORY_CYBER_VIOLENCE': 'Cyber violence',
 'STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN': 'Cyber violence against women',
 'STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS': 'Data protection and privacy violations',
 'STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH': 'Illegal or harmful speech',
 'STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS': 'Intellectual property infringements',
 'STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS': 'Negative effects on civic discourse or '
                                                                        'elections',
 'STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE': 'Type of alleged illegal content not specified by the notifier',
 'STATEMENT_CATEGORY_OTHER_VIOLATION_TC': 'Other violation of provider’s terms and conditions',
 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS': 'Protection of minors',
 'STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY': 'Risk for public security',
 'STATEMENT_CATEGORY_SCAMS_AND_FRAUD': 'Scams and/or fraud',
 'STATEMENT_CATEGORY_SELF_HARM': 'Self-harm',
 'STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS': 'Unsafe, non-compliant or prohibited products',
 'STATEMENT_CATEGORY_VIOLENCE': 'Violence'}

# Statement::SOURCE_TYPES
SOURCE_TYPES: dict[str, str] = {'SOURCE_ARTICLE_16': 'Notice submitted in accordance with Article 16 DSA',
 'SOURCE_TRUSTED_FLAGGER': 'Notice submitted by a trusted flagger',
 'SOURCE_TYPE_OTHER_NOTIFICATION': 'Other type of notification',
 'SOURCE_VOLUNTARY': 'Own voluntary initiative'}

# Statement::AUTOMATED_DETECTIONS
AUTOMATED_DETECTIONS: list[str] = ['Yes', 'No']

# Statement::AUTOMATED_DECISIONS
AUTOMATED_DECISIONS: dict[str, str] = {'AUTOMATED_DECISION_FULLY': 'Fully automated',
 'AUTOMATED_DECISION_PARTIALLY': 'Partially automated',
 'AUTOMATED_DECISION_NOT_AUTOMATED': 'Not Automated'}

# EuropeanCountriesService::EUROPEAN_COUNTRY_CODES
EUROPEAN_COUNTRY_CODES: list[str] = ['AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IS', 'IT', 'LI', 'LT',
 'LU', 'LV', 'MT', 'NL', 'NO', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK']

# EuropeanLanguagesService::ALL_LANGUAGES
ALL_LANGUAGES: dict[str, str] = {'AB': 'Abkhazian',
 'AA': 'Afar',
 'AF': 'Afrikaans',
 'AK': 'Akan',
 'SQ': 'Albanian',
 'AM': 'Amharic',
 'AR': 'Arabic',
 'AN': 'Aragonese',
 'HY': 'Armenian',
 'AS': 'Assamese',
 'AV': 'Avaric',
 'AE': 'Avestan',
 'AY': 'Aymara',
 'AZ': 'Azerbaijani',
 'BM': 'Bambara',
 'BA': 'Bashkir',
 'EU': 'Basque',
 'BE': 'Belarusian',
 'BN': 'Bengali',
 'BH': 'Bihari languages',
 'BI': 'Bislama',
 'BS': 'Bosnian',
 'BR': 'Breton',
 'BG': 'Bulgarian',
 'MY': 'Burmese',
 'CA': 'Catalan, Valencian',
 'KM': 'Central Khmer',
 'CH': 'Chamorro',
 'CE': 'Chechen',
 'NY': 'Chichewa, Chewa, Nyanja',
 'ZH': 'Chinese',
 'CU': 'Church Slavonic, Old Bulgarian, Old Church Slavonic',
 'CV': 'Chuvash',
 'KW': 'Cornish',
 'CO': 'Corsican',
 'CR': 'Cree',
 'HR': 'Croatian',
 'CS': 'Czech',
 'DA': 'Danish',
 'DV': 'Divehi, Dhivehi, Maldivian',
 'NL': 'Dutch',
 'DZ': 'Dzongkha',
 'EN': 'English',
 'EO': 'Esperanto',
 'ET': 'Estonian',
 'EE': 'Ewe',
 'FO': 'Faroese',
 'FJ': 'Fijian',
 'FI': 'Finnish',
 'FR': 'French',
 'FF': 'Fulah',
 'GD': 'Gaelic, Scottish Gaelic',
 'GL': 'Galician',
 'LG': 'Ganda',
 'KA': 'Georgian',
 'DE': 'German',
 'KI': 'Gikuyu, Kikuyu',
 'EL': 'Greek',
 'KL': 'Greenlandic, Kalaallisut',
 'GN': 'Guarani',
 'GU': 'Gujarati',
 'HT': 'Haitian, Haitian Creole',
 'HA': 'Hausa',
 'HE': 'Hebrew',
 'HZ': 'Herero',
 'HI': 'Hindi',
 'HO': 'Hiri Motu',
 'HU': 'Hungarian',
 'IS': 'Icelandic',
 'IO': 'Ido',
 'IG': 'Igbo',
 'ID': 'Indonesian',
 'IA': 'Interlingua (International Auxiliary Language Association)',
 'IE': 'Interlingue',
 'IU': 'Inuktitut',
 'IK': 'Inupiaq',
 'GA': 'Irish',
 'IT': 'Italian',
 'JA': 'Japanese',
 'JV': 'Javanese',
 'KN': 'Kannada',
 'KR': 'Kanuri',
 'KS': 'Kashmiri',
 'KK': 'Kazakh',
 'RW': 'Kinyarwanda',
 'KV': 'Komi',
 'KG': 'Kongo',
 'KO': 'Korean',
 'KJ': 'Kwanyama, Kuanyama',
 'KU': 'Kurdish',
 'KY': 'Kyrgyz',
 'LO': 'Lao',
 'LA': 'Latin',
 'LV': 'Latvian',
 'LB': 'Letzeburgesch, Luxembourgish',
 'LI': 'Limburgish, Limburgan, Limburger',
 'LN': 'Lingala',
 'LT': 'Lithuanian',
 'LU': 'Luba-Katanga',
 'MK': 'Macedonian',
 'MG': 'Malagasy',
 'MS': 'Malay',
 'ML': 'Malayalam',
 'MT': 'Maltese',
 'GV': 'Manx',
 'MI': 'Maori',
 'MR': 'Marathi',
 'MH': 'Marshallese',
 'RO': 'Romanian',
 'MN': 'Mongolian',
 'NA': 'Nauru',
 'NV': 'Navajo, Navaho',
 'ND': 'Northern Ndebele',
 'NG': 'Ndonga',
 'NE': 'Nepali',
 'SE': 'Northern Sami',
 'NO': 'Norwegian',
 'NB': 'Norwegian Bokmål',
 'NN': 'Norwegian Nynorsk',
 'II': 'Nuosu, Sichuan Yi',
 'OC': 'Occitan (post 1500)',
 'OJ': 'Ojibwa',
 'OR': 'Oriya',
 'OM': 'Oromo',
 'OS': 'Ossetian, Ossetic',
 'PI': 'Pali',
 'PA': 'Panjabi, Punjabi',
 'PS': 'Pashto, Pushto',
 'FA': 'Persian',
 'PL': 'Polish',
 'PT': 'Portuguese',
 'QU': 'Quechua',
 'RM': 'Romansh',
 'RN': 'Rundi',
 'RU': 'Russian',
 'SM': 'Samoan',
 'SG': 'Sango',
 'SA': 'Sanskrit',
 'SC': 'Sardinian',
 'SR': 'Serbian',
 'SN': 'Shona',
 'SD': 'Sindhi',
 'SI': 'Sinhala, Sinhalese',
 'SK': 'Slovak',
 'SL': 'Slovenian',
 'SO': 'Somali',
 'ST': 'Sotho, Southern',
 'NR': 'South Ndebele',
 'ES': 'Spanish',
 'SU': 'Sundanese',
 'SW': 'Swahili',
 'SS': 'Swati',
 'SV': 'Swedish',
 'TL': 'Tagalog',
 'TY': 'Tahitian',
 'TG': 'Tajik',
 'TA': 'Tamil',
 'TT': 'Tatar',
 'TE': 'Telugu',
 'TH': 'Thai',
 'BO': 'Tibetan',
 'TI': 'Tigrinya',
 'TO': 'Tonga (Tonga Islands)',
 'TS': 'Tsonga',
 'TN': 'Tswana',
 'TR': 'Turkish',
 'TK': 'Turkmen',
 'TW': 'Twi',
 'UG': 'Uighur, Uyghur',
 'UK': 'Ukrainian',
 'UR': 'Urdu',
 'UZ': 'Uzbek',
 'VE': 'Venda',
 'VI': 'Vietnamese',
 'VO': 'Volapük',
 'WA': 'Walloon',
 'CY': 'Welsh',
 'FY': 'Western Frisian',
 'WO': 'Wolof',
 'XH': 'Xhosa',
 'YI': 'Yiddish',
 'YO': 'Yoruba',
 'ZA': 'Zhuang, Chuang',
 'ZU': 'Zulu'}

# The keys of these arrays are what the API accepts.
DECISION_VISIBILITY_KEYS = list(DECISION_VISIBILITIES)
DECISION_MONETARY_KEYS = list(DECISION_MONETARIES)
DECISION_PROVISION_KEYS = list(DECISION_PROVISIONS)
DECISION_ACCOUNT_KEYS = list(DECISION_ACCOUNTS)
ACCOUNT_TYPE_KEYS = list(ACCOUNT_TYPES)
KEYWORD_KEYS = list(KEYWORDS)
DECISION_GROUND_KEYS = list(DECISION_GROUNDS)
CONTENT_TYPE_KEYS = list(CONTENT_TYPES)
STATEMENT_CATEGORY_KEYS = list(STATEMENT_CATEGORIES)
SOURCE_TYPE_KEYS = list(SOURCE_TYPES)
AUTOMATED_DECISION_KEYS = list(AUTOMATED_DECISIONS)
LANGUAGE_CODES = list(ALL_LANGUAGES)

PUID_MAX = 500
PUID_PATTERN = r"^[a-zA-Z0-9-_]+$"  # with PHP's /D: no trailing newline (re.fullmatch below)
EAN13_PATTERN = r"^[0-9]{13}$"
MAX_STATEMENTS_PER_CALL = 100

# StatementStoreRequest::messages() (GroupedSubmissionsService::multi_messages() is the same).
CUSTOM_MESSAGES: dict[str, str] = {
    "decision_visibility_other.required_if":
        "The decision visibility other field is required when decision visibility is other.",
    "decision_monetary_other.required_if":
        "The decision monetary other field is required when decision monetary is other.",
    "content_type_other.required_if": "The content type other field is required when content is other.",
    "illegal_content_legal_ground.required_if":
        "The illegal content legal ground field is required when decision ground is illegal content.",
    "illegal_content_explanation.required_if":
        "The illegal content explanation field is required when decision ground is illegal content.",
    "incompatible_content_ground.required_if":
        "The incompatible content ground field is required when decision ground is incompatible content.",
    "incompatible_content_explanation.required_if":
        "The incompatible content explanation field is required when decision ground is incompatible content.",
    "content_date.date_format": "The content date does not match the format YYYY-MM-DD.",
    "application_date.date_format": "The application date does not match the format YYYY-MM-DD.",
    "end_date_account_restriction.date_format":
        "The end date of account restriction does not match the format YYYY-MM-DD.",
    "end_date_monetary_restriction.date_format":
        "The end date of monetary restriction does not match the format YYYY-MM-DD.",
    "end_date_service_restriction.date_format":
        "The end date of service restriction does not match the format YYYY-MM-DD.",
    "end_date_visibility_restriction.date_format":
        "The end date of visibility restriction does not match the format YYYY-MM-DD.",
    "puid.regex": "The puid format is invalid.",
}

# Laravel's lang/en/validation.php, for the rules used here (size rules: the "string"/"array" variants).
_MESSAGES = {
    "required": "The :attribute field is required.",
    "required_if": "The :attribute field is required when :other is :value.",
    "required_without_all": "The :attribute field is required when none of :values are present.",
    "array": "The :attribute field must be an array.",
    "string": "The :attribute field must be a string.",
    "in": "The selected :attribute is invalid.",
    "url": "The :attribute field must be a valid URL.",
    "regex": "The :attribute field format is invalid.",
    "date_format": "The :attribute field must match the format :format.",
    "after_or_equal": "The :attribute field must be a date after or equal to :date.",
    "before_or_equal": "The :attribute field must be a date before or equal to :date.",
    "max.string": "The :attribute field must not be greater than :max characters.",
    "max.array": "The :attribute field must not have more than :max items.",
    "between.string": "The :attribute field must be between :min and :max characters.",
    "between.array": "The :attribute field must have between :min and :max items.",
}

_IMPLICIT = {"required", "required_if", "required_without_all"}
_EXCLUDE = {"exclude", "exclude_unless"}

_MISSING = object()
Rule = tuple[str, tuple[str, ...]]


def _in(keys: list[str], nullable: bool = False) -> Rule:
    """StatementStoreRequest::in(): ``in:null,...`` when ``$nullable`` (the *string* "null" is then accepted)."""
    return ("in", (("null",) if nullable else ()) + tuple(keys))


def _r(spec: str) -> Rule:
    name, _, params = spec.partition(":")
    return (name, tuple(params.split(",")) if params else ())


def _php_array(value: Any) -> list[Any]:
    """PHP ``(array) $value``: null -> [], scalar -> [scalar], array -> its values."""
    if value is None or value is _MISSING:
        return []
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    return [value]


def _contains_strict(value: Any, needle: str, *, cast: bool) -> bool:
    """``in_array($needle, (array) $value, true)`` (single endpoint) or, with ``cast=False``,
    ``in_array($needle, is_array($value) ? $value : [], true)`` (multiple endpoint)."""
    if cast:
        items = _php_array(value)
    else:
        items = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else []
    return any(isinstance(item, str) and item == needle for item in items)


def statement_rules(data: dict[str, Any], *, multi: bool = False) -> list[tuple[str, list[Rule]]]:
    """The rules, in order, as StatementStoreRequest::rules() (``multi=False``) or
    GroupedSubmissionsService::multi_rules() (``multi=True``) compile them for this body."""
    visibility_other = _contains_strict(data.get("decision_visibility"), "DECISION_VISIBILITY_OTHER", cast=not multi)
    content_type_other = _contains_strict(data.get("content_type"), "CONTENT_TYPE_OTHER", cast=not multi)
    source_voluntary = _contains_strict(data.get("source_type"), "SOURCE_VOLUNTARY", cast=True)

    def required_if(cond: bool) -> list[Rule]:  # Rule::requiredIf($c) -> "required" or "" (nothing)
        return [("required", ())] if cond else []

    def exclude_if(cond: bool) -> list[Rule]:  # Rule::excludeIf($c) -> "exclude" or ""
        return [("exclude", ())] if cond else []

    dates = {"content_date": "2000-01-01", "application_date": "2020-01-01"}
    rules: list[tuple[str, list[Rule]]] = []
    if not multi:
        rules += [
            ("content_id", [_r("array"), _r("nullable")]),
            ("content_id.EAN-13", [_r("string"), ("regex", (EAN13_PATTERN,))]),
            ("content_id_ean", [_r("nullable"), _r("string"), ("regex", (EAN13_PATTERN,))]),
        ]
    rules += [
        ("decision_visibility", [_r("array"), _in(DECISION_VISIBILITY_KEYS, True),
                                 _r("required_without_all:decision_monetary,decision_provision,decision_account"),
                                 _r("nullable")]),
        ("decision_visibility_other", [_r("max:500"), *required_if(visibility_other),
                                       *exclude_if(not visibility_other)]),
        ("decision_monetary", [_in(DECISION_MONETARY_KEYS, True),
                               _r("required_without_all:decision_visibility,decision_provision,decision_account"),
                               _r("nullable")]),
        ("decision_monetary_other", [_r("required_if:decision_monetary,DECISION_MONETARY_OTHER"),
                                     _r("exclude_unless:decision_monetary,DECISION_MONETARY_OTHER"), _r("max:500")]),
        ("decision_provision", [_in(DECISION_PROVISION_KEYS, True),
                                _r("required_without_all:decision_visibility,decision_monetary,decision_account"),
                                _r("nullable")]),
        ("decision_account", [_in(DECISION_ACCOUNT_KEYS, True),
                              _r("required_without_all:decision_visibility,decision_monetary,decision_provision"),
                              _r("nullable")]),
        ("account_type", [_in(ACCOUNT_TYPE_KEYS, True), _r("nullable")]),
        ("category_specification", [_r("array"), _in(KEYWORD_KEYS, True), _r("nullable")]),
        ("category_specification_other", [_r("max:500")]),
        ("decision_ground", [_r("required"), _in(DECISION_GROUND_KEYS)]),
        ("decision_ground_reference_url", [_r("url"), _r("nullable"), _r("max:500")]),
        ("illegal_content_legal_ground", [_r("required_if:decision_ground,DECISION_GROUND_ILLEGAL_CONTENT"),
                                          _r("exclude_unless:decision_ground,DECISION_GROUND_ILLEGAL_CONTENT"),
                                          _r("max:500")]),
        ("illegal_content_explanation", [_r("required_if:decision_ground,DECISION_GROUND_ILLEGAL_CONTENT"),
                                         _r("exclude_unless:decision_ground,DECISION_GROUND_ILLEGAL_CONTENT"),
                                         _r("max:2000")]),
        ("incompatible_content_ground", [_r("required_if:decision_ground,DECISION_GROUND_INCOMPATIBLE_CONTENT"),
                                         _r("exclude_unless:decision_ground,DECISION_GROUND_INCOMPATIBLE_CONTENT"),
                                         _r("max:500")]),
        ("incompatible_content_explanation", [
            _r("required_if:decision_ground,DECISION_GROUND_INCOMPATIBLE_CONTENT"),
            _r("exclude_unless:decision_ground,DECISION_GROUND_INCOMPATIBLE_CONTENT"), _r("max:2000")]),
        ("incompatible_content_illegal", [_in(INCOMPATIBLE_CONTENT_ILLEGALS),
                                          _r("exclude_unless:decision_ground,DECISION_GROUND_INCOMPATIBLE_CONTENT")]),
        ("content_type", [_r("array"), _r("required"), _in(CONTENT_TYPE_KEYS)]),
        ("content_type_other", [_r("max:500"), *required_if(content_type_other), *exclude_if(not content_type_other)]),
        ("category", [_r("required"), _in(STATEMENT_CATEGORY_KEYS)]),
        ("category_addition", [_r("array"), _in(STATEMENT_CATEGORY_KEYS)]),
        ("territorial_scope", [_r("array"), _r("nullable"), _in(EUROPEAN_COUNTRY_CODES)]),
        ("content_language", [_in(LANGUAGE_CODES), _r("nullable")]),
        *[(name, [_r("required"), _r("date_format:Y-m-d"), _r(f"after_or_equal:{low}"),
                  _r("before_or_equal:2038-01-01")]) for name, low in dates.items()],
        *[(f"end_date_{kind}_restriction", [_r("date_format:Y-m-d"), _r("nullable"), _r("before_or_equal:2038-01-01")])
          for kind in ("account", "monetary", "service", "visibility")],
        ("decision_facts", [_r("required"), _r("max:5000")]),
        ("source_type", [_r("required"), _in(SOURCE_TYPE_KEYS)]),
        ("source_identity", [_r("max:500"), _r("nullable")] if multi
         else [_r("max:500"), *exclude_if(source_voluntary)]),
        ("automated_detection", [_r("required"), _in(AUTOMATED_DETECTIONS)]),
        ("automated_decision", [_r("required"), _in(AUTOMATED_DECISION_KEYS)]),
        ("puid", [_r("required"), _r("max:500"), ("regex", (PUID_PATTERN,))]),
    ]
    if multi:
        rules += [
            ("content_id", [_r("array"), _r("nullable")]),
            ("content_id.EAN-13", [_r("string"), ("regex", (EAN13_PATTERN,))]),
        ]
    return rules


# ---------------------------------------------------------------- the request middleware

_TRIM_CHARS = ("\t\n\r\x0b\x00 \x0c\u00a0\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u1680"
               "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u200c\u200d\u200e\u200f"
               "\u2028\u2029\u202f\u205f\u2060\u2061\u2062\u2063\u2064\u2065\u206a\u206b\u206c\u206d\u206e\u206f"
               "\u3000\u2800\u3164\ufeff\uffa0\U0001d159\U0001d173\U0001d174\U0001d175\U0001d176\U0001d177"
               "\U0001d178\U0001d179\U0001d17a\U000e0020")


def apply_request_middleware(value: Any) -> Any:
    """Laravel's TrimStrings (Str::trim: whitespace and invisible characters) then ConvertEmptyStringsToNull,
    recursively, as the real server does to every JSON body before validation."""
    if isinstance(value, str):
        value = value.strip(_TRIM_CHARS)
        return None if value == "" else value
    if isinstance(value, dict):
        return {key: apply_request_middleware(item) for key, item in value.items()}
    if isinstance(value, list):
        return [apply_request_middleware(item) for item in value]
    return value


# ---------------------------------------------------------------- PHP helpers


def _php_string(value: Any) -> str:
    """PHP ``(string) $value`` for JSON scalars."""
    if value is None or value is _MISSING or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value).replace("e+", "E+")
    return str(value)


def _is_numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and re.fullmatch(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*", value) is not None


def _php_trim(value: str) -> str:
    return value.strip(" \t\n\r\x00\x0b")


def _snake(value: str) -> str:
    """Illuminate\\Support\\Str::snake()."""
    if re.fullmatch(r"[a-z]+", value):
        return value
    value = re.sub(r"\s+", "", " ".join(word[:1].upper() + word[1:] for word in re.split(r"(?<=\s)", value)))
    return re.sub(r"(.)(?=[A-Z])", r"\1_", value).lower()


def displayable(attribute: str) -> str:
    """Laravel's name for a field in messages: ``decision_ground`` -> ``decision ground``."""
    return _snake(attribute).replace("_", " ")


def _get(data: dict[str, Any], attribute: str) -> Any:
    current: Any = data
    for part in attribute.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def _required(value: Any) -> bool:
    if value is None or value is _MISSING:
        return False
    if isinstance(value, str) and _php_trim(value) == "":
        return False
    if isinstance(value, (list, dict)) and len(value) < 1:
        return False
    return True


def _size(value: Any) -> int:
    if isinstance(value, (list, dict)):
        return len(value)
    return len(_php_string(value))


# Illuminate\Support\Str::isUrl() (derived from Symfony's UrlValidator), Laravel v12.58.0.
_URL_PROTOCOLS = (
    "aaa|aaas|about|acap|acct|acd|acr|adiumxtra|adt|afp|afs|aim|amss|android|appdata|apt|ark|attachment|aw|barion|"
    "beshare|bitcoin|bitcoincash|blob|bolo|browserext|calculator|callto|cap|cast|casts|chrome|chrome-extension|cid|"
    "coap|coap\\+tcp|coap\\+ws|coaps|coaps\\+tcp|coaps\\+ws|com-eventbrite-attendee|content|conti|crid|cvs|dab|data|"
    "dav|diaspora|dict|did|dis|dlna-playcontainer|dlna-playsingle|dns|dntp|dpp|drm|drop|dtn|dvb|ed2k|elsi|example|"
    "facetime|fax|feed|feedready|file|filesystem|finger|first-run-pen-experience|fish|fm|ftp|fuchsia-pkg|geo|gg|git|"
    "gizmoproject|go|gopher|graph|gtalk|h323|ham|hcap|hcp|http|https|hxxp|hxxps|hydrazone|iax|icap|icon|im|imap|info|"
    "iotdisco|ipn|ipp|ipps|irc|irc6|ircs|iris|iris\\.beep|iris\\.lwz|iris\\.xpc|iris\\.xpcs|isostore|itms|jabber|jar|"
    "jms|keyparc|lastfm|ldap|ldaps|leaptofrogans|lorawan|lvlt|magnet|mailserver|mailto|maps|market|message|mid|mms|"
    "modem|mongodb|moz|ms-access|ms-browser-extension|ms-calculator|ms-drive-to|ms-enrollment|ms-excel|"
    "ms-eyecontrolspeech|ms-gamebarservices|ms-gamingoverlay|ms-getoffice|ms-help|ms-infopath|ms-inputapp|"
    "ms-lockscreencomponent-config|ms-media-stream-id|ms-mixedrealitycapture|ms-mobileplans|ms-officeapp|ms-people|"
    "ms-project|ms-powerpoint|ms-publisher|ms-restoretabcompanion|ms-screenclip|ms-screensketch|ms-search|"
    "ms-search-repair|ms-secondary-screen-controller|ms-secondary-screen-setup|ms-settings|ms-settings-airplanemode|"
    "ms-settings-bluetooth|ms-settings-camera|ms-settings-cellular|ms-settings-cloudstorage|"
    "ms-settings-connectabledevices|ms-settings-displays-topology|ms-settings-emailandaccounts|ms-settings-language|"
    "ms-settings-location|ms-settings-lock|ms-settings-nfctransactions|ms-settings-notifications|ms-settings-power|"
    "ms-settings-privacy|ms-settings-proximity|ms-settings-screenrotation|ms-settings-wifi|ms-settings-workplace|"
    "ms-spd|ms-sttoverlay|ms-transit-to|ms-useractivityset|ms-virtualtouchpad|ms-visio|ms-walk-to|ms-whiteboard|"
    "ms-whiteboard-cmd|ms-word|msnim|msrp|msrps|mss|mtqp|mumble|mupdate|mvn|news|nfs|ni|nih|nntp|notes|ocf|oid|"
    "onenote|onenote-cmd|opaquelocktoken|openpgp4fpr|pack|palm|paparazzi|payto|pkcs11|platform|pop|pres|prospero|"
    "proxy|pwid|psyc|pttp|qb|query|redis|rediss|reload|res|resource|rmi|rsync|rtmfp|rtmp|rtsp|rtsps|rtspu|s3|"
    "secondlife|service|session|sftp|sgn|shttp|sieve|simpleledger|sip|sips|skype|smb|sms|smtp|snews|snmp|"
    "soap\\.beep|soap\\.beeps|soldat|spiffe|spotify|ssh|steam|stun|stuns|submit|svn|tag|teamspeak|tel|teliaeid|"
    "telnet|tftp|tg|things|thismessage|tip|tn3270|tool|ts3server|turn|turns|tv|udp|unreal|urn|ut2004|v-event|vemmi|"
    "ventrilo|videotex|vnc|view-source|wais|webcal|wpid|ws|wss|wtai|wyciwyg|xcon|xcon-userid|xfire|xmlrpc\\.beep|"
    "xmlrpc\\.beeps|xmpp|xri|ymsgr|z39\\.50|z39\\.50r|z39\\.50s"
)
_H16 = r"(?:[0-9a-f]{1,4})"
_LS32 = rf"(?:(?:{_H16}:{_H16})|(?:(?:(?:25[0-5]|(?:[1-9]|1[0-9]|2[0-4])?[0-9])\.){{3}}(?:25[0-5]|(?:[1-9]|1[0-9]|2[0-4])?[0-9])))"
_IPV6 = "|".join([
    rf"(?:(?:{_H16}:){{6}}{_LS32})",
    rf"(?:::(?:{_H16}:){{5}}{_LS32})",
    rf"(?:(?:{_H16})?::(?:{_H16}:){{4}}{_LS32})",
    rf"(?:(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32})",
    rf"(?:(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32})",
    rf"(?:(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32})",
    rf"(?:(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32})",
    rf"(?:(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16})",
    rf"(?:(?:(?:{_H16}:){{0,6}}{_H16})?::)",
])
_URL_RE = _regex.compile(
    r"^(" + _URL_PROTOCOLS + r")://"
    r"(((?:[\_\.\pL\pN-]|%[0-9A-Fa-f]{2})+:)?((?:[\_\.\pL\pN-]|%[0-9A-Fa-f]{2})+)@)?"
    r"((?:(?:(?:[\pL\pN\pS\pM\-\_]++\.)+(?:(?:xn--[a-z0-9-]++)|(?:[\pL\pN\pM]++)))|[a-z0-9\-\_]++)\.?"
    r"|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}"
    r"|\[(?:" + _IPV6 + r")\])"
    r"(:[0-9]+)?"
    r"(?:/(?:[\pL\pN\-._\~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*)*"
    r"(?:\?(?:[\pL\pN\-._\~!$&'\[\]()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?"
    r"(?:\#(?:[\pL\pN\-._\~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?"
    r"$",
    _regex.IGNORECASE | _regex.UNICODE,
)


def is_url(value: Any) -> bool:
    """Laravel's ``url`` rule."""
    return isinstance(value, str) and _URL_RE.search(value) is not None


def _create_from_format_ymd(value: str) -> _dt.datetime | None:
    """``DateTime::createFromFormat('!Y-m-d', $value)``: up to 4/2/2 digits, out-of-range months and days roll over
    (2024-02-30 -> 2024-03-01); anything else (trailing data, letters) -> None."""
    match = re.fullmatch(r"(\d{1,4})-(\d{1,2})-(\d{1,2})", value)
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    if year < 1:
        return _dt.datetime.min
    try:
        return _dt.datetime(year, month, 1) + _dt.timedelta(days=day - 1)
    except OverflowError:
        return _dt.datetime.min if day < 1 else _dt.datetime.max


def _parse_free_form(value: str) -> _dt.datetime | None:
    """An approximation of ``Carbon::parse()`` (PHP's strtotime grammar) for the values a client may send:
    ``Y-m-d`` with an optional time and an optional zone (PHP reads the "-4" of "2023-4-4-4" as a UTC offset,
    so the real server only reports the format for that one), ISO 8601, and a few common layouts."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
                         r"\s*(Z|[+-]\d{1,2}(?::?\d{2})?)?", value, re.IGNORECASE)
    if match:
        base = _create_from_format_ymd("-".join(match.group(1, 2, 3)))
        if base is None or base in (_dt.datetime.min, _dt.datetime.max):
            return base
        hour, minute, second = (int(part or 0) for part in match.group(4, 5, 6))
        parsed = base + _dt.timedelta(hours=hour, minutes=minute, seconds=second)
        zone = match.group(7)
        if zone and zone.upper() != "Z":
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            hours, minutes = (int(digits), 0) if len(digits) <= 2 else (int(digits[:-2]), int(digits[-2:]))
            parsed -= sign * _dt.timedelta(hours=hours, minutes=minutes)
        return parsed
    parsed = None
    for layout in ("%Y/%m/%d", "%d-%m-%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d %H:%M:%S", "%d %B %Y", "%B %d, %Y"):
        try:
            parsed = _dt.datetime.strptime(value, layout)
            break
        except ValueError:
            continue
    return parsed


def _date_for_comparison(value: Any) -> _dt.datetime | None:
    if not isinstance(value, str):  # numbers: Carbon would read a timestamp; treated as unparseable here
        return None
    return _create_from_format_ymd(value) or _parse_free_form(value)


def _valid_date_format(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- the engine


class _Validation:
    def __init__(self, data: dict[str, Any], rules: list[tuple[str, list[Rule]]]):
        self.data, self.rules = data, rules
        self.errors: dict[str, list[str]] = {}
        self.failed: dict[str, set[str]] = {}
        self.excluded: set[str] = set()

    def run(self) -> None:
        for attribute, rules in self.rules:
            if self._is_excluded(attribute):
                continue
            names = {name for name, _ in rules}
            for rule in rules:
                self._validate(attribute, rule, names)
                if self._is_excluded(attribute):
                    break
                if names & _IMPLICIT and self.failed.get(attribute, set()) & _IMPLICIT:
                    break

    def _is_excluded(self, attribute: str) -> bool:
        return any(attribute == ex or attribute.startswith(ex + ".") for ex in self.excluded)

    def _validate(self, attribute: str, rule: Rule, names: set[str]) -> None:
        name, params = rule
        value = _get(self.data, attribute)
        if name == "nullable":
            return
        if name not in _EXCLUDE:
            implicit = name in _IMPLICIT
            if isinstance(value, str) and _php_trim(value) == "":
                present_or_implicit = implicit
            else:
                present_or_implicit = value is not _MISSING or implicit
            if not present_or_implicit:
                return
            if not implicit and "nullable" in names and value is None:
                return
        if getattr(self, f"_rule_{name}")(value, params, names):
            return
        if name in _EXCLUDE:
            self.excluded.add(attribute)
            return
        self.failed.setdefault(attribute, set()).add(name)
        self.errors.setdefault(attribute, []).append(self._message(attribute, name, params, names))

    # --- rules: True when the value passes
    def _rule_required(self, value: Any, params: tuple[str, ...], names: set[str]) -> bool:
        return _required(value)

    def _rule_required_if(self, value: Any, params: tuple[str, ...], names: set[str]) -> bool:
        other = _get(self.data, params[0])
        if other is _MISSING:
            return True
        return not (isinstance(other, str) and other in params[1:]) or _required(value)

    def _rule_required_without_all(self, value: Any, params: tuple[str, ...], names: set[str]) -> bool:
        if any(_required(_get(self.data, other)) for other in params):
            return True
        return _required(value)

    def _rule_exclude(self, value: Any, params: tuple[str, ...], names: set[str]) -> bool:
        return False

    def _rule_exclude_unless(self, value: Any, params: tuple[str, ...], names: set[str]) -> bool:
        other = _get(self.data, params[0])  # absent: null, which is not in the list -> excluded
        return isinstance(other, str) and other in params[1:]

    def _rule_array(self, value: Any, params: tuple[str, ...], names: set[str]) -> bool:
        return isinstance(value, (list, dict))

    def _rule_string(self, value: Any, params: tuple[str, ...], names: set[str]) -> bool:
        return isinstance(value, str)

    def _rule_in(self, value: Any, params: tuple[str, ...], names: set[str]) -> bool:
        if isinstance(value, (list, dict)) and "array" in names:
            items = list(value.values()) if isinstance(value, dict) else value
            return all(not isinstance(item, (list, dict)) and _php_string(item) in params for item in items)
        return not isinstance(value, (list, dict)) and _php_string(value) in params

    def _rule_max(self, value: Any, params: tuple[str, ...], names: set[str]) -> bool:
        return _size(value) <= int(params[0])

    def _rule_url(self, value: Any, params: tuple[str, ...], names: set[str]) -> bool:
        return is_url(value)

    def _rule_regex(self, value: Any, params: tuple[str, ...], names: set[str]) -> bool:
        if not isinstance(value, str) and not _is_numeric(value):
            return False
        text = _php_string(value)
        if params[0] == PUID_PATTERN:  # /D: "$" is the very end
            return re.fullmatch(r"[a-zA-Z0-9\-_]+", text) is not None
        return re.search(params[0], text) is not None  # EAN-13: no /D, "$" also matches before a final "\n"

    def _rule_date_format(self, value: Any, params: tuple[str, ...], names: set[str]) -> bool:
        return _valid_date_format(value)

    def _compare_date(self, value: Any, bound: str, op: str) -> bool:
        date = _date_for_comparison(value)
        limit = _dt.datetime.fromisoformat(bound)
        return date is not None and (date >= limit if op == ">=" else date <= limit)

    def _rule_after_or_equal(self, value: Any, params: tuple[str, ...], names: set[str]) -> bool:
        return self._compare_date(value, params[0], ">=")

    def _rule_before_or_equal(self, value: Any, params: tuple[str, ...], names: set[str]) -> bool:
        return self._compare_date(value, params[0], "<=")

    def _message(self, attribute: str, name: str, params: tuple[str, ...], names: set[str]) -> str:
        custom = CUSTOM_MESSAGES.get(f"{attribute}.{name}")
        if custom is not None:
            return custom
        if name in ("max", "between"):
            template = _MESSAGES[f"{name}.{'array' if 'array' in names else 'string'}"]
        else:
            template = _MESSAGES[name]
        text = template.replace(":attribute", displayable(attribute))
        if name == "required_without_all":
            text = text.replace(":values", " / ".join(displayable(other) for other in params))
        elif name == "required_if":
            text = text.replace(":other", displayable(params[0])).replace(":value", params[1])
        elif name == "max":
            text = text.replace(":max", params[0])
        elif name == "between":
            text = text.replace(":min", params[0]).replace(":max", params[1])
        elif name == "date_format":
            text = text.replace(":format", params[0])
        elif name in ("after_or_equal", "before_or_equal"):
            text = text.replace(":date", params[0])
        return text

    def validated(self) -> dict[str, Any]:
        """``$validator->validated()``: the fields that have rules, are present and were not excluded."""
        out: dict[str, Any] = {}
        for attribute, _ in self.rules:
            if "." in attribute or self._is_excluded(attribute):
                continue
            value = _get(self.data, attribute)
            if value is not _MISSING:
                out[attribute] = value
        return out


def validate_statement_full(body: Any, *, multi: bool = False,
                            middleware: bool = True) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """(errors, validated data). ``multi=True``: the rules the multiple endpoint applies to each statement;
    ``middleware=False``: validate the body as given, without Laravel's trimming and ""->null."""
    data = apply_request_middleware(body) if middleware else body
    if not isinstance(data, dict):
        data = {}  # a JSON list or scalar body: Laravel sees no named fields
    validation = _Validation(data, statement_rules(data, multi=multi))
    validation.run()
    return validation.errors, validation.validated()


def validate_statement(body: Any, *, multi: bool = False, middleware: bool = True) -> dict[str, list[str]]:
    """The errors the Transparency Database would answer for this statement: ``{field: [messages]}``
    (empty when valid), in Laravel's order."""
    return validate_statement_full(body, multi=multi, middleware=middleware)[0]


def summarize(errors: dict[str, list[str]]) -> str:
    """ValidationException::summarize(): the first message, plus "(and N more error(s))"."""
    messages = [message for field_messages in errors.values() for message in field_messages]
    if not messages:
        return "The given data was invalid."
    rest = len(messages) - 1
    return messages[0] + (f" (and {rest} more {'error' if rest == 1 else 'errors'})" if rest else "")


def validate_statements_payload(body: Any) -> dict[str, list[str]]:
    """``$request->validate(['statements' => 'required|array|between:1,100'])`` of the multiple endpoint."""
    data = body if isinstance(body, dict) else {}
    validation = _Validation(data, [("statements", [_r("required"), _r("array"),
                                                     _r(f"between:1,{MAX_STATEMENTS_PER_CALL}")])])
    validation._rule_between = lambda value, params, names: (  # type: ignore[attr-defined]
        int(params[0]) <= _size(value) <= int(params[1]))
    validation.run()
    return validation.errors
