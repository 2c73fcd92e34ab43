"""Locale formatting: tables of input -> expected, per language."""

from __future__ import annotations

import datetime as dt

import pytest

from deck import l10n
from deck.diagnostics import UserError
from deck.session import BuildSession

KST = dt.timezone(dt.timedelta(hours=9))


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
])
def test_format_figure(value, unit, approx, decimals, ko, en):
    assert l10n.format_figure(value, unit, "ko", approx=approx, decimals=decimals) == ko
    assert l10n.format_figure(value, unit, "en", approx=approx, decimals=decimals) == en


def test_english_deck_never_gets_korean_units():
    for unit in ("USD", "KRW", "people", "parameters", "rank", "year", "gpu_hours"):
        text = l10n.format_figure(140e9, unit, "en", approx=True)
        assert not any("\uac00" <= ch <= "\ud7a3" for ch in text), text


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
                                           ("ja", "ja-JP")])
def test_run_language_tags(lang, tag):
    assert l10n.lang_tag(lang) == tag


def test_missing_catalog_names_what_exists():
    with pytest.raises(UserError) as info:
        BuildSession().labels("fr")
    assert "no label catalog for 'fr'" in str(info.value) and "'en'" in str(info.value)
