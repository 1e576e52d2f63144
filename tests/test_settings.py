"""A bad setting stops the service at start with a message naming it."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, database_url


def _check(**env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "contacts_project.settings.base", **env}
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True)


@pytest.mark.parametrize(("env", "message"), [
    ({"DB_POOL_MIN_SIZE": "5", "DB_POOL_MAX_SIZE": "2"}, "DB_POOL_MIN_SIZE (5) must not exceed DB_POOL_MAX_SIZE (2)"),
    ({"DB_POOL_MAX_SIZE": "0"}, "DB_POOL_MAX_SIZE must be at least 1, got 0"),
    ({"DB_POOL_TIMEOUT": "soon"}, "DB_POOL_TIMEOUT must be an integer, got 'soon'"),
    ({"DATABASE_URL": "mysql://localhost/x"}, "DATABASE_URL must be a postgres:// or sqlite:/// URL"),
])
def test_a_bad_database_setting_stops_the_service_naming_it(env, message):
    result = _check(**{"DATABASE_URL": database_url(), **env})

    assert result.returncode != 0 and message in result.stderr


def test_the_pool_settings_within_bounds_start():
    result = _check(DATABASE_URL=database_url(), DB_POOL_MIN_SIZE="2", DB_POOL_MAX_SIZE="2", DB_POOL_TIMEOUT="1")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("env", "message"), [
    ({"API_RATE_LIMIT": "1200"}, "API_RATE_LIMIT must be a rate such as 1200/min (per s, min, hour or day), got '1200'"),
    ({"BULK_RATE_LIMIT": "2/x"}, "BULK_RATE_LIMIT must be a rate such as 1200/min (per s, min, hour or day), got '2/x'"),
])
def test_a_bad_rate_limit_stops_the_service_naming_it(env, message):
    result = _check(DATABASE_URL=database_url(), **env)

    assert result.returncode != 0 and message in result.stderr


def test_rate_limits_in_every_period_start():
    result = _check(DATABASE_URL=database_url(), API_RATE_LIMIT="20/s", BULK_RATE_LIMIT="5000/Day")

    assert result.returncode == 0, result.stderr


def test_the_database_urls_own_options_are_kept_beside_ours():
    url = database_url() + "?sslmode=disable&options=-c%20statement_timeout%3D5000"
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "options = settings.DATABASES['default']['OPTIONS']; "
        "print(json.dumps({k: options[k] for k in ('sslmode', 'options', 'connect_timeout')}))"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "contacts_project.settings.base", "DATABASE_URL": url}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "sslmode": "disable", "options": "-c statement_timeout=5000 -c jit=off", "connect_timeout": 2
    }
