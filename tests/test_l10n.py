"""Locale formatting: tables of input -> expected, per language."""

from __future__ import annotations

import datetime as dt

import pytest

from deck import l10n
from deck.diagnostics import UserError
from deck.resources import labels_dir
from deck.schema import field_names
from deck.session import BuildSession
from deck.units import UNITS

KST = dt.timezone(dt.timedelta(hours=9))


def numbers(lang: str) -> l10n.Numbers:
    return l10n.Numbers(lang, l10n.read_labels(labels_dir() / f"{lang}.yaml"))


@pytest.mark.parametrize(("value", "unit", "approx", "decimals", "ko", "en"), [
    (140e9, "KRW", True, None, "약 1,400억 원", "about KRW 140 billion"),
    (145e9, "KRW", True, None, "약 1,450억 원", "about KRW 145 billion"),
    (8.1e9, "KRW", True, None, "약 81억 원", "about KRW 8.1 billion"),
    (5_576_000, "USD", False, None, "557만 6,000 달러", "USD 5.576 million"),
    (100_000_000, "USD", False, None, "1억 달러", "USD 100 million"),
    (191_556, "people", False, None, "19만 1,556명", "191,556 people"),
    (5000, "people", True, None, "약 5,000명", "about 5,000 people"),
    (605_574, "people", False, None, "60만 5,574명", "605,574 people"),
    (671e9, "parameters", False, None, "6,710억 개", "671 billion"),
    (79.8, "percent", False, None, "79.8%", "79.8%"),
    (5.576, "percent", False, 2, "5.58%", "5.58%"),
    (2, "rank", False, None, "2위", "2nd"),
    (3, "rank", False, None, "3위", "3rd"),
    (11, "rank", False, None, "11위", "11th"),
    (2022, "year", False, None, "2022년", "2022"),
    (17.93, "multiple", False, 1, "17.9배", "17.9x"),
    (2_788_000, "gpu_hours", False, None, "278만 8,000 GPU시간", "2.788 million GPU hours"),
    (2, "usd_per_hour", False, None, "시간당 2 달러", "USD 2 per hour"),
    (2.0, "percent", False, 1, "2.0%", "2.0%"),
    (9.6 - 2.0, "percentage_points", False, None, "7.6%포인트", "7.6 percentage points"),
    (1, "percentage_points", False, None, "1%포인트", "1 percentage point"),
    (1, "people", False, None, "1명", "1 person"),
    (3.9625, "multiple", False, 2, "3.96배", "3.96x"),
    (16.3e12, "KRW", True, None, "약 16조 3,000억 원", "about KRW 16.3 trillion"),
    (0.1 + 0.2, "percent", False, None, "0.3%", "0.3%"),
])
def test_format_figure(value, unit, approx, decimals, ko, en):
    assert numbers("ko").figure(value, unit, approx=approx, decimals=decimals) == ko
    assert numbers("en").figure(value, unit, approx=approx, decimals=decimals) == en


@pytest.mark.parametrize(("qualifier", "ko", "en", "ja"), [
    ("at_least", "10% 이상", "at least 10%", "10%以上"),
    ("more_than", "10% 초과", "more than 10%", "10%超"),
    ("under", "10% 미만", "under 10%", "10%未満"),
    ("at_most", "10% 이하", "at most 10%", "10%以下"),
    ("about", "10%", "10%", "10%"),  # 'about' is the hedge, given by approx
])
def test_qualifiers(qualifier, ko, en, ja):
    for lang, expected in (("ko", ko), ("en", en), ("ja", ja)):
        assert numbers(lang).figure(10, "percent", qualifier=qualifier) == expected


@pytest.mark.parametrize(("value", "unit", "approx", "ja"), [
    (40, "people", True, "約40人"),
    (5_576_000, "USD", False, "557万6,000ドル"),
    (191_556, "people", False, "19万1,556人"),
    (2, "rank", False, "2位"),
    (140e9, "KRW", True, "約1,400億ウォン"),
    (2022, "year", False, "2022年"),
])
def test_japanese_words_come_from_the_japanese_catalog(value, unit, approx, ja):
    assert numbers("ja").figure(value, unit, approx=approx) == ja


def test_every_catalog_has_every_unit():
    for path in labels_dir().glob("*.yaml"):
        labels = l10n.read_labels(path)
        assert set(field_names(type(labels.units))) == set(UNITS), path


def test_english_deck_never_gets_korean_units():
    en = numbers("en")
    for unit in UNITS:
        text = en.figure(140e9, unit, approx=True)
        assert not any("\uac00" <= ch <= "\ud7a3" for ch in text), text


@pytest.mark.parametrize(("lang", "value", "expected"), [
    ("de", 1450.5, "1.450,5"), ("fr", 1450.5, "1\u202f450,5"), ("en", 1450.5, "1,450.5"),
    ("de", 5_576_000, "5,576 Millionen"), ("ja", 140e9, "1,400億"),
    ("zh-Hant", 191_556, "19萬1,556"),
])
def test_grouping_and_words_follow_cldr(lang, value, expected):
    assert l10n.Numbers(lang, numbers("en").labels).number(value) == expected


@pytest.mark.parametrize(("n", "en"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"),
                                       (11, "11th"), (12, "12th"), (21, "21st"), (22, "22nd")])
def test_ordinals_follow_cldr_categories(n, en):
    assert numbers("en").figure(n, "rank") == en


@pytest.mark.parametrize(("moment", "ko", "en"), [
    (dt.datetime(2025, 2, 2, 8, 0, tzinfo=KST), "2025년 2월 2일 08:00 (UTC+9)",
     "February 2, 2025, 08:00 (UTC+9)"),
    (dt.datetime(2025, 2, 3, 10, 43, 27, tzinfo=KST), "2025년 2월 3일 10:43 (UTC+9)",
     "February 3, 2025, 10:43 (UTC+9)"),
    (dt.datetime(2024, 6, 3, 7, 30, tzinfo=dt.timezone(dt.timedelta(hours=-4))),
     "2024년 6월 3일 07:30 (UTC-4)", "June 3, 2024, 07:30 (UTC-4)"),
])
def test_timestamps_keep_the_articles_time_zone(moment, ko, en):
    assert l10n.format_timestamp(moment, "ko") == ko
    assert l10n.format_timestamp(moment, "en") == en


@pytest.mark.parametrize(("lang", "tag"), [("ko", "ko-KR"), ("en", "en-US"), ("en-GB", "en-GB"),
                                           ("ja", "ja-JP"), ("zh-Hant", "zh-TW"),
                                           ("zh-Hans", "zh-CN"), ("zh-HK", "zh-HK"),
                                           ("ar", "ar-EG"), ("he", "he-IL"), ("de", "de-DE"),
                                           ("sr-Latn", "sr-Latn-RS"), ("pt", "pt-BR")])
def test_run_language_tags(lang, tag):
    assert l10n.lang_tag(lang) == tag


def test_missing_catalog_names_what_exists():
    with pytest.raises(UserError) as info:
        BuildSession().labels("fr")
    assert "no label catalog for 'fr'" in str(info.value) and "'en'" in str(info.value)
    assert "never taken from another language" in str(info.value)


def test_a_date_alone_is_shown_as_a_date_and_a_naive_time_is_refused():
    assert l10n.format_timestamp(dt.date(2024, 6, 3), "ko") == "2024년 6월 3일"
    with pytest.raises(ValueError):
        l10n.format_timestamp(dt.datetime(2024, 6, 3, 7, 30), "en")


@pytest.mark.parametrize(("lang", "rtl"), [("ar", True), ("he", True), ("fa", True),
                                           ("ko", False), ("en", False), ("ja", False)])
def test_right_to_left_languages(lang, rtl):
    assert l10n.is_rtl(lang) is rtl
