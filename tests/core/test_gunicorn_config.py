"""mosis.gunicorn_config: the web workers' warm-up and ``gc.freeze()`` hook, as gunicorn loads it."""

import gc
import logging
import sys
import textwrap
from types import SimpleNamespace

import pytest
from gunicorn.app.wsgiapp import WSGIApplication
from gunicorn.config import Config

from mosis import gunicorn_config


@pytest.fixture
def package_tree(tmp_path, monkeypatch):
    """A throwaway package with modules a request might import, one that fails, and skipped sub-packages."""
    root = tmp_path / "warmpkg"
    files = {
        "__init__.py": "",
        "views.py": "",
        "broken.py": "raise RuntimeError('missing optional dependency')",
        "services/__init__.py": "",
        "services/downloads.py": "",
        "migrations/__init__.py": "",
        "migrations/0001_initial.py": "raise AssertionError('a migration must not be imported')",
        "management/__init__.py": "raise AssertionError('management commands must not be imported')",
        "tests/__init__.py": "raise AssertionError('tests must not be imported')",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root
    for name in [m for m in sys.modules if m == "warmpkg" or m.startswith("warmpkg.")]:
        del sys.modules[name]


@pytest.fixture
def restore_gc():
    yield
    gc.unfreeze()


def test_import_tree_imports_modules_and_subpackages_but_not_migrations_commands_or_tests(
    package_tree, caplog
):
    import warmpkg

    with caplog.at_level(logging.WARNING, logger="mosis.gunicorn"):
        imported = gunicorn_config._import_tree("warmpkg", warmpkg.__path__)

    assert imported == 3  # views, services, services.downloads
    assert {"warmpkg.views", "warmpkg.services", "warmpkg.services.downloads"} <= set(sys.modules)
    assert not {"warmpkg.migrations", "warmpkg.management", "warmpkg.tests"} & set(sys.modules)
    assert "could not import warmpkg.broken" in caplog.text  # logged and skipped: the worker still starts


def test_import_project_modules_imports_the_project_apps_lazy_modules():
    imported = gunicorn_config.import_project_modules()

    assert imported > 20
    assert "store.downloads.counter" in sys.modules  # imported inside functions, not at start-up
    assert "mosis.core.healthcheck" in sys.modules


def test_the_s3_client_is_imported_only_when_packages_are_on_s3(settings, monkeypatch):
    imported = []
    monkeypatch.setattr(gunicorn_config, "_import_tree", lambda package, paths: 0)
    monkeypatch.setattr(gunicorn_config, "importlib", SimpleNamespace(import_module=imported.append))

    settings.STORAGE_BACKEND = "local"
    gunicorn_config.import_project_modules()
    assert "redis" in imported and "boto3" not in imported

    imported.clear()
    settings.STORAGE_BACKEND = "s3"
    gunicorn_config.import_project_modules()
    assert {"redis", "boto3", "storages.backends.s3"} <= set(imported)


def test_post_worker_init_freezes_the_loaded_objects(restore_gc):
    gc.unfreeze()
    messages = []
    worker = SimpleNamespace(log=SimpleNamespace(debug=lambda text, *args: messages.append(text % args)))

    gunicorn_config.post_worker_init(worker)

    assert gc.get_freeze_count() > 10_000  # the framework's and the project's long-lived objects
    assert messages and messages[0].startswith("froze ")


def test_gunicorn_loads_the_module_as_its_config():
    app = WSGIApplication.__new__(WSGIApplication)  # without __init__, which would parse pytest's argv
    app.cfg = Config()
    app.load_config_from_module_name_or_filename("python:mosis.gunicorn_config")

    assert app.cfg.post_worker_init is gunicorn_config.post_worker_init
