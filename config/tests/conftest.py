"""Hooks of the config tests: the schemathesis run reports how many cases it ran."""

import sys


def pytest_terminal_summary(terminalreporter):
    module = sys.modules.get("config.tests.test_api_schemathesis")
    if module is not None and module.CASES_RUN:
        terminalreporter.write_line(module.summary())
