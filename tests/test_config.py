"""Settings from the environment: numbers parsed, bad values named in one line."""

from __future__ import annotations

import pytest

from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("DRAMATIS_HOME", str(tmp_path))
    monkeypatch.setenv("DRAMATIS_THREADS", "1")
    monkeypatch.setenv("DRAMATIS_CACHE_MB", "0")
    settings = Settings.load()
    assert (settings.home, settings.n_threads, settings.cache_mb) == (tmp_path, 1, 0.0)
    assert Settings.load(n_threads=2).n_threads == 2  # the CLI wins over the environment


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("DRAMATIS_THREADS", "two", "DRAMATIS_THREADS='two' is not a number"),
        ("DRAMATIS_CACHE_MB", "lots", "DRAMATIS_CACHE_MB='lots' is not a number"),
        ("DRAMATIS_CACHE_MB", "-5", "DRAMATIS_CACHE_MB='-5' is negative"),
        ("DRAMATIS_THREADS", "1.5", "DRAMATIS_THREADS='1.5' is not a number"),
        ("DRAMATIS_N_CTX", "0", "DRAMATIS_N_CTX='0' is too small: set it above 0"),
    ],
)
def test_bad_environment_values_are_named(monkeypatch, var, value, message):
    monkeypatch.setenv(var, value)
    with pytest.raises(DramatisError, match=message) as err:
        Settings.load()
    assert "\n" not in str(err.value)


def test_home_and_model_come_from_the_environment_too(monkeypatch, tmp_path):
    monkeypatch.setenv("DRAMATIS_HOME", "~/somewhere")
    monkeypatch.setenv("DRAMATIS_MODEL", "gemma3-270m")
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = Settings.load()
    assert (settings.home, settings.model) == (tmp_path / "somewhere", "gemma3-270m")
    assert Settings.load(model="smollm2").model == "smollm2"
