"""A user's rules file: switch rules off, change a tolerance or a severity.

```toml
[rules."narrative.percentage"]
enabled = false

[rules."t3.row_sum"]
tolerance = 1          # allow a difference of one case
severity = "warning"   # the finding's severity instead of error
```

Why a file and not flags: a supervisor's office settles its policy once and passes the same file to
`parse`, `ingest` and `audit`. Tolerances apply where the checks run (parse, ingest); `enabled` and
`severity` also re-rate findings already stored in a database (audit).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from typing import Any

from extractor.report import Finding, Report

SEVERITIES = ("error", "warning", "info")


class RulesConfigError(ValueError):
    """An unusable rules file; the message is one line naming the file and the problem."""


@dataclass
class RuleSetting:
    enabled: bool = True
    tolerance: float | None = None
    severity: str | None = None


@dataclass
class RulesConfig:
    settings: dict[str, RuleSetting] = field(default_factory=dict)
    path: str | None = None

    def enabled(self, rule_id: str) -> bool:
        setting = self._setting(rule_id)
        return setting.enabled if setting else True

    def tolerance(self, rule: Any) -> float | None:
        setting = self._setting(rule.id)
        if setting and setting.tolerance is not None:
            return setting.tolerance
        return rule.tolerance

    def severity(self, rule_id: str, severity: str) -> str:
        """The severity a finding gets: a rule's default level is replaced, the softer levels it gives
        on its own (a blank cell, an ambiguous sentence) are kept unless they would exceed it."""
        setting = self._setting(rule_id)
        if not setting or not setting.severity:
            return severity
        from extractor.checks.rules import rule_by_id

        rule = rule_by_id().get(rule_id)
        if rule is None or severity == rule.severity:
            return setting.severity
        return severity if SEVERITIES.index(severity) >= SEVERITIES.index(setting.severity) else setting.severity

    def adjust(self, findings: list[Finding]) -> list[Finding]:
        """Drop findings of switched-off rules and apply severity overrides (new objects, inputs untouched)."""
        out = []
        for f in findings:
            if not self.enabled(f.rule):
                continue
            severity = self.severity(f.rule, f.severity)
            out.append(f if severity == f.severity else replace(f, severity=severity))
        return out

    def _setting(self, rule_id: str) -> RuleSetting | None:
        if rule_id in self.settings:
            return self.settings[rule_id]
        # a prefix entry ("narrative" or "cross_year.*") covers a family of rules
        for key, setting in self.settings.items():
            stem = key.removesuffix(".*")
            if key.endswith(".*") or "." not in key:
                if rule_id.startswith(stem + "."):
                    return setting
        return None


def load(path: str) -> RulesConfig:
    """Read and validate a rules TOML file (unknown rule ids are refused: a typo would silently do nothing)."""
    from extractor.checks.cross import CROSS_RULES
    from extractor.checks.rules import rule_by_id

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise RulesConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesConfigError(f"{path}: not valid TOML ({exc})") from None
    known = set(rule_by_id()) | {r.id for r in CROSS_RULES}
    families = {k.split(".")[0] for k in known}
    table = data.get("rules", {})
    if not isinstance(table, dict):
        raise RulesConfigError(f"{path}: [rules] must be a table of rule ids")
    settings: dict[str, RuleSetting] = {}
    for rule_id, entry in table.items():
        stem = rule_id.removesuffix(".*")
        if rule_id not in known and stem not in families and not any(k.startswith(stem + ".") for k in known):
            raise RulesConfigError(f"{path}: unknown rule '{rule_id}' (see `extractor rules`)")
        if not isinstance(entry, dict):
            raise RulesConfigError(f"{path}: rules.'{rule_id}' must be a table (enabled / tolerance / severity)")
        unknown = set(entry) - {"enabled", "tolerance", "severity"}
        if unknown:
            raise RulesConfigError(f"{path}: rules.'{rule_id}': unknown key(s) {', '.join(sorted(unknown))}")
        severity = entry.get("severity")
        if severity is not None and severity not in SEVERITIES:
            raise RulesConfigError(f"{path}: rules.'{rule_id}'.severity must be one of {', '.join(SEVERITIES)}")
        tolerance = entry.get("tolerance")
        if tolerance is not None and (isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance < 0):
            raise RulesConfigError(f"{path}: rules.'{rule_id}'.tolerance must be a non-negative number")
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise RulesConfigError(f"{path}: rules.'{rule_id}'.enabled must be true or false")
        settings[rule_id] = RuleSetting(enabled=enabled, tolerance=tolerance, severity=severity)
    return RulesConfig(settings=settings, path=path)


def apply(report: Report, config: RulesConfig) -> Report:
    """Re-rate a freshly parsed report under a rules file: the checks of extractor.checks.rules are run
    again with the file's tolerances, the parser's own findings are filtered and re-rated."""
    from extractor.checks.rules import RULES, run_checks

    check_ids = {r.id for r in RULES if r.source == "checks"}
    kept = [f for f in report.findings if f.rule not in check_ids]
    report.findings = config.adjust(kept) + run_checks(report, config=config)
    return report
