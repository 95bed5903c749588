"""Whisper's language codes and the names OpenAI's ``verbose_json`` reports them by."""

from __future__ import annotations

from collections.abc import Sequence

from ..exceptions import InvalidRequest

#: Whisper language code -> the lower-case English name ``verbose_json`` uses ("english").
LANGUAGES: dict[str, str] = {
    "en": "english", "zh": "chinese", "de": "german", "es": "spanish", "ru": "russian",
    "ko": "korean", "fr": "french", "ja": "japanese", "pt": "portuguese", "tr": "turkish",
    "pl": "polish", "ca": "catalan", "nl": "dutch", "ar": "arabic", "sv": "swedish",
    "it": "italian", "id": "indonesian", "hi": "hindi", "fi": "finnish", "vi": "vietnamese",
    "he": "hebrew", "uk": "ukrainian", "el": "greek", "ms": "malay", "cs": "czech",
    "ro": "romanian", "da": "danish", "hu": "hungarian", "ta": "tamil", "no": "norwegian",
    "th": "thai", "ur": "urdu", "hr": "croatian", "bg": "bulgarian", "lt": "lithuanian",
    "la": "latin", "mi": "maori", "ml": "malayalam", "cy": "welsh", "sk": "slovak",
    "te": "telugu", "fa": "persian", "lv": "latvian", "bn": "bengali", "sr": "serbian",
    "az": "azerbaijani", "sl": "slovenian", "kn": "kannada", "et": "estonian",
    "mk": "macedonian", "br": "breton", "eu": "basque", "is": "icelandic", "hy": "armenian",
    "ne": "nepali", "mn": "mongolian", "bs": "bosnian", "kk": "kazakh", "sq": "albanian",
    "sw": "swahili", "gl": "galician", "mr": "marathi", "pa": "punjabi", "si": "sinhala",
    "km": "khmer", "sn": "shona", "yo": "yoruba", "so": "somali", "af": "afrikaans",
    "oc": "occitan", "ka": "georgian", "be": "belarusian", "tg": "tajik", "sd": "sindhi",
    "gu": "gujarati", "am": "amharic", "yi": "yiddish", "lo": "lao", "uz": "uzbek",
    "fo": "faroese", "ht": "haitian creole", "ps": "pashto", "tk": "turkmen", "nn": "nynorsk",
    "mt": "maltese", "sa": "sanskrit", "lb": "luxembourgish", "my": "myanmar", "bo": "tibetan",
    "tl": "tagalog", "mg": "malagasy", "as": "assamese", "tt": "tatar", "haw": "hawaiian",
    "ln": "lingala", "ha": "hausa", "ba": "bashkir", "jw": "javanese", "su": "sundanese",
    "yue": "cantonese",}  # fmt: skip

#: Names and aliases accepted in place of a code ("English", "castilian").
_BY_NAME: dict[str, str] = {name: code for code, name in LANGUAGES.items()} | {
    "burmese": "my", "valencian": "ca", "flemish": "nl", "haitian": "ht", "letzeburgesch": "lb",
    "pushto": "ps", "panjabi": "pa", "moldavian": "ro", "moldovan": "ro", "sinhalese": "si",
    "castilian": "es", "mandarin": "zh",
}  # fmt: skip


def language_code(value: str, supported: Sequence[str], model: str) -> str:
    """The Whisper code for ``value`` (ISO 639-1, a BCP 47 tag or a name), if ``model`` has it.

    Raises :class:`InvalidRequest` (``param="language"``) naming what the model supports.
    """
    raw = value.strip().lower().replace("_", "-")
    code = raw if raw in LANGUAGES else raw.split("-", 1)[0]
    code = _BY_NAME.get(raw, code)
    if code not in LANGUAGES:
        raise InvalidRequest(
            f"Unsupported language {value!r}: give an ISO 639-1 code such as 'en'.",
            param="language",
            code="unsupported_language",
        )
    if code not in supported:
        listed = ", ".join(supported) if len(supported) <= 10 else f"{len(supported)} languages"
        raise InvalidRequest(
            f"Language {value!r} is not supported by the local model {model!r} "
            f"(it supports: {listed}). Configure a multilingual model to use other languages.",
            param="language",
            code="unsupported_language",
        )
    return code


def language_name(code: str) -> str:
    """The name ``verbose_json`` reports for ``code`` (the code itself if unknown)."""
    return LANGUAGES.get(code, code)
