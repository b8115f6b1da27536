import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import Env, parse_database_url


@pytest.mark.parametrize("raw", ["0", "false", "False", "FALSE", "no", "off", "", " 0 "])
def test_bool_false_values(raw):
    assert Env({"FLAG": raw}).bool("FLAG") is False


@pytest.mark.parametrize("raw", ["1", "true", "True", "yes", "on"])
def test_bool_true_values(raw):
    assert Env({"FLAG": raw}).bool("FLAG") is True


def test_bool_rejects_anything_else():
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        Env({"FLAG": "maybe"}).bool("FLAG")


def test_bool_default_when_unset():
    assert Env({}).bool("FLAG", True) is True


def test_missing_required_value_names_the_variable():
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        Env({}).str("SECRET_KEY")


def test_int_parses_and_rejects():
    assert Env({"N": " 42 "}).int("N") == 42
    with pytest.raises(ImproperlyConfigured, match="N"):
        Env({"N": "4x"}).int("N")


def test_list_splits_on_commas_and_drops_blanks():
    assert Env({"HOSTS": "a.example, b.example,,"}).list("HOSTS") == ["a.example", "b.example"]


def test_postgres_url_is_parsed():
    db = parse_database_url("postgres://user:p%40ss@db.internal:5433/todo?sslmode=require")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "user",
        "p@ss",
        "db.internal",
        "5433",
        "todo",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_separate_password_overrides_the_url():
    assert parse_database_url("postgres://u:old@h/d", password="new")["PASSWORD"] == "new"


def test_unsupported_scheme_fails():
    with pytest.raises(ImproperlyConfigured):
        parse_database_url("mysql://u@h/d")
