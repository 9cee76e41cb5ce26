import pickle

import pytest

import texture
from texture import errors


def test_message_names_the_file():
    err = texture.ImageReadError("not an image", path="/data/a.png")
    assert str(err) == "/data/a.png: not an image"
    assert err.path == "/data/a.png"


def test_message_without_path():
    assert str(texture.ConfigError("levels must be >= 8")) == "levels must be >= 8"


ERRORS = [name for name in errors.__all__ if not issubclass(getattr(errors, name), Warning)]
WARNINGS = [name for name in errors.__all__ if issubclass(getattr(errors, name), Warning)]


@pytest.mark.parametrize("name", ERRORS)
def test_every_error_is_a_texture_error_and_survives_pickling(name):
    cls = getattr(errors, name)
    assert issubclass(cls, texture.TextureError)
    err = cls("boom", path="x.png")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is cls and str(again) == str(err) and again.path == "x.png"


@pytest.mark.parametrize("name", WARNINGS)
def test_every_warning_about_files_is_a_user_warning_and_survives_pickling(name):
    cls = getattr(errors, name)
    assert issubclass(cls, texture.TextureWarning) and issubclass(cls, UserWarning)
    warning = cls("x.png", "y.png", "x.png")
    again = pickle.loads(pickle.dumps(warning))
    assert type(again) is cls and str(again) == str(warning) and again.paths == ("x.png", "y.png")


def test_builtin_bases_keep_generic_handlers_working():
    assert issubclass(texture.ImageNotFoundError, FileNotFoundError)
    assert issubclass(texture.InvalidImageError, ValueError)
    assert issubclass(texture.NotFittedError, AttributeError)
