"""The CI's pip-audit step fails on a vulnerability, and tolerates only an unreachable service."""

import importlib.util
import json
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "audit_dependencies", Path(__file__).resolve().parents[2] / ".ci" / "audit_dependencies.py"
)
audit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit)

NETWORK_STDERR = (
    "Traceback (most recent call last):\n  ...\nrequests.exceptions.ConnectionError: HTTPSConnectionPool("
    "host='pypi.org', port=443): Max retries exceeded with url: /pypi/django/5.2.19/json (Caused by "
    "NameResolutionError(\"Failed to resolve 'pypi.org'\"))\n"
)


def _report(*deps):
    return json.dumps({"dependencies": list(deps), "fixes": []})


def test_a_vulnerability_fails_the_step():
    stdout = _report(
        {"name": "django", "version": "5.2.0", "vulns": [
            {"id": "PYSEC-2025-1", "fix_versions": ["5.2.1"], "aliases": ["CVE-2025-0001"], "description": ""}]},
        {"name": "httpx", "version": "0.28.1", "vulns": []},
    )
    status, lines = audit.classify(1, stdout, "")
    assert status == 1
    assert any("django 5.2.0: PYSEC-2025-1 CVE-2025-0001 -> fix: 5.2.1" in line for line in lines)


def test_a_vulnerability_fails_even_when_the_network_was_flaky():
    stdout = _report({"name": "pillow", "version": "1.0", "vulns": [{"id": "GHSA-x", "fix_versions": []}]})
    assert audit.classify(1, stdout, NETWORK_STDERR)[0] == 1


def test_an_unreachable_service_is_only_a_warning():
    status, lines = audit.classify(1, "", NETWORK_STDERR)
    assert status == 0
    assert "NOT audited" in lines[0]


@pytest.mark.parametrize("stderr", ["ERROR: ResolutionImpossible", "Traceback ... KeyError: 'name'", ""])
def test_any_other_failure_fails_the_step(stderr):
    assert audit.classify(1, "", stderr)[0] == 1


def test_clean_and_unknown_versions():
    stdout = _report({"name": "django", "version": "5.2.19", "vulns": []},
                     {"name": "structlog", "skip_reason": "Dependency not found on PyPI and could not be audited"})
    status, lines = audit.classify(0, stdout, "")
    assert status == 0
    assert "no known vulnerabilities in 1 audited" in lines[0] and "1 package(s) could not be audited" in lines[1]
    only_skipped = _report({"name": "structlog", "skip_reason": "Dependency not found on PyPI"})
    assert "nothing was audited" in audit.classify(0, only_skipped, "")[1][-1]
