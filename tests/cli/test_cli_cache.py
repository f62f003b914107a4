"""The JAX compilation cache of the command line: on by default, under the user's cache dir."""

from __future__ import annotations

import jax

from ghostmech.cli import _cache


def test_on_by_default_under_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    monkeypatch.delenv("GHOSTMECH_JAX_CACHE", raising=False)
    monkeypatch.delenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", raising=False)
    before = jax.config.jax_compilation_cache_dir
    min_time = jax.config.jax_persistent_cache_min_compile_time_secs
    try:
        path = _cache.enable_compilation_cache()
        assert path == str(tmp_path / "ghostmech" / "jax")
        assert (tmp_path / "ghostmech" / "jax").is_dir()
        assert jax.config.jax_compilation_cache_dir == path  # jax was imported already
    finally:
        jax.config.update("jax_compilation_cache_dir", before)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", min_time)


def test_turned_off_by_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("GHOSTMECH_JAX_CACHE", "0")
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    assert _cache.enable_compilation_cache() is None
    assert not (tmp_path / "ghostmech").exists()
