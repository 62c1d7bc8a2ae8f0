"""The crawl's garbage-collector tuning (optout_audit/extensions/gctuning.py): applied while the engine runs, undone after."""

from __future__ import annotations

import gc

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from optout_audit import settings as project_settings
from optout_audit.extensions import gctuning as collector_module
from optout_audit.extensions.gctuning import CrawlCollector

PROJECT_THRESHOLDS = tuple(project_settings.OPTOUT_GC_THRESHOLDS)


@pytest.fixture
def python_defaults(monkeypatch):
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    monkeypatch.setattr(collector_module, "_running", 0)  # a failed test must not leave a crawl "running"
    yield (700, 10, 10)
    gc.unfreeze()
    gc.set_threshold(*before)


def _collector(**settings) -> CrawlCollector:
    settings.setdefault("OPTOUT_GC_THRESHOLDS", PROJECT_THRESHOLDS)
    return CrawlCollector.from_crawler(get_crawler(settings_dict=settings))


def test_the_project_enables_it():
    assert "optout_audit.extensions.gctuning.CrawlCollector" in project_settings.EXTENSIONS
    assert PROJECT_THRESHOLDS == (50_000, 20, 20)


def test_tuned_while_the_engine_runs_and_restored_after(python_defaults):
    collector = _collector(OPTOUT_GC_THRESHOLDS=(40_000, 15, 12))
    survivor = [[] for _ in range(3)]  # alive at start: frozen, walked by no collection while the crawl runs
    collector.engine_started()
    assert gc.get_threshold() == (40_000, 15, 12)
    assert gc.get_freeze_count() > 0 and not _in_a_generation(survivor)
    collector.engine_stopped()
    assert gc.get_threshold() == python_defaults
    assert gc.get_freeze_count() == 0 and _in_a_generation(survivor)


def _in_a_generation(container) -> bool:
    """Is ``container`` in one of the collector's three generations (not the permanent one)?"""
    return any(obj is container for generation in range(3) for obj in gc.get_objects(generation))


def test_a_setting_given_as_text_like_scrapy_s_option(python_defaults):
    collector = _collector(OPTOUT_GC_THRESHOLDS="20000,5,5")
    collector.engine_started()
    assert gc.get_threshold() == (20_000, 5, 5)
    collector.engine_stopped()
    assert gc.get_threshold() == python_defaults


@pytest.mark.parametrize("off", [None, "", ()])
def test_off_leaves_python_s_defaults(off):
    with pytest.raises(NotConfigured):
        _collector(OPTOUT_GC_THRESHOLDS=off)


def test_two_crawlers_in_one_process_the_last_to_stop_restores(python_defaults):
    first, second = _collector(), _collector()
    first.engine_started()
    second.engine_started()
    first.engine_stopped()
    assert gc.get_threshold() == PROJECT_THRESHOLDS  # the second crawl still runs
    second.engine_stopped()
    assert gc.get_threshold() == python_defaults
    assert gc.get_freeze_count() == 0


def test_a_stop_without_a_start_changes_nothing(python_defaults):
    _collector().engine_stopped()
    assert gc.get_threshold() == python_defaults
