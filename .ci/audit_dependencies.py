"""pip-audit for `bash .ci/test`: fail on any known vulnerability; tolerate, loudly, only a vulnerability
service that cannot be reached (or that knows none of the installed versions).

    python .ci/audit_dependencies.py            # audits the environment this Python runs in
    PIP_AUDIT_SERVICE=osv python .ci/audit_dependencies.py

Exit status: 0 clean (or the service unreachable: a warning is printed), 1 a vulnerability was found
or pip-audit failed for any reason other than the network.
"""

from __future__ import annotations

import json
import os
import subprocess  # the audit tool, run with an argument list  # nosec B404
import sys

# What requests/urllib3 say when there is no route to the service (DNS, refused, timeout, proxy).
NETWORK_FAILURES = (
    "NameResolutionError",
    "Failed to resolve",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Max retries exceeded",
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "Connection refused",
    "Network is unreachable",
    "ProxyError",
)


def classify(returncode: int, stdout: str, stderr: str) -> tuple[int, list[str]]:
    """(exit status, lines to print) for one pip-audit run with `-f json`."""
    try:
        report = json.loads(stdout) if stdout.strip() else None
    except ValueError:
        report = None
    if report is None:
        if returncode != 0 and any(marker in stderr for marker in NETWORK_FAILURES):
            reason = next(line for line in reversed(stderr.strip().splitlines()) if line.strip())
            return 0, [
                "WARNING: pip-audit could not reach its vulnerability service; dependencies were NOT audited.",
                f"         {reason[:300]}",
            ]
        return 1, ["pip-audit failed:", stderr.strip()[-3000:] or stdout.strip()[-3000:]]

    dependencies = report.get("dependencies", [])
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    lines = []
    if vulnerable:
        lines.append(f"pip-audit found known vulnerabilities in {len(vulnerable)} package(s):")
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
                aliases = ", ".join(vuln.get("aliases") or [])
                lines.append(f"  {dep['name']} {dep.get('version', '?')}: {vuln.get('id')} {aliases} -> fix: {fixes}")
        return 1, lines
    audited = len(dependencies) - len(skipped)
    lines.append(f"pip-audit: no known vulnerabilities in {audited} audited package(s).")
    if skipped:
        lines.append(
            f"WARNING: {len(skipped)} package(s) could not be audited (the service does not know them), e.g. "
            + "; ".join(dep["skip_reason"] for dep in skipped[:3])
        )
    if dependencies and audited == 0:
        lines.append("WARNING: the vulnerability service knew none of the installed versions: nothing was audited.")
    return 0, lines


def main() -> int:
    service = os.environ.get("PIP_AUDIT_SERVICE", "pypi")
    cmd = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--format", "json",
           "--vulnerability-service", service, "--skip-editable"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)  # noqa: S603 - our own argument list, no shell  # nosec B603
    status, lines = classify(proc.returncode, proc.stdout, proc.stderr)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
