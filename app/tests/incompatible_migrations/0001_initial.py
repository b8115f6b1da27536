from importlib import import_module

Migration = import_module("todo.migrations.0001_initial").Migration
