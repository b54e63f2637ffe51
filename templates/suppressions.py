"""Accepted security findings, written into the matching resources' Metadata, where checkov (`checkov.skip`),
cfn-guard (`guard.SuppressedRules`, applied by `audit`) and cfn-lint (`cfn-lint.config.ignore_checks`) read them.

Three sources, applied in this order:
1. templates/suppressions.yaml: the one reviewed list of what the compiler's own templates accept, for every
   environment (or, with `environments:`, for named ones whose reason is about that environment).
2. documented opt-ins (OPT_INS): a spec that chooses `http_only: true`, `immutable_tags: false`, or an ALB or a
   database without deletion protection outside production accepts the finding that choice causes; the reason
   is the documented one, so any environment using only documented options passes `audit`. Where an
   `environments:` entry of suppressions.yaml already covers the same rule and resource, its reviewed reason wins.
3. the spec's `accepted_risks:` (templates/spec_escapes.py), with the spec's reasons: those naming a resource are
   written here; `audit` applies all of them to its report and fails on one whose check does not fire.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from troposphere import Template

from .spec import EnvironmentSpec
from .spec_common import pascal

FILE = Path(__file__).with_name("suppressions.yaml")
ORIGIN_FILE = "templates/suppressions.yaml"
CFN_LINT_RULE = re.compile(r"^[EWI][0-9]{4}$")
CONTROL_ID = re.compile(r"^CT\.")


@dataclass(frozen=True)
class Suppression:
    rules: tuple[str, ...]
    template: str
    resource: str
    reason: str
    environments: tuple[str, ...] | None = None
    origin: str = ORIGIN_FILE  # where the acceptance comes from, as `audit` prints it

    def names(self, resource: str) -> bool:
        """Whether the entry's `resource` (a logical ID, or a pattern such as `*Bucket`) names `resource`."""
        return fnmatch.fnmatchcase(resource, self.resource)

    def applies(self, target: str, file_name: str) -> bool:
        return fnmatch.fnmatch(file_name, self.template) and (self.environments is None or target in self.environments)

    def covers(self, rule: str, target: str, file_name: str, resource: str) -> bool:
        return rule in self.rules and self.applies(target, file_name) and self.names(resource)

    @staticmethod
    def is_checkov(rule: str) -> bool:
        return rule.startswith("CKV")

    @staticmethod
    def is_cfnlint(rule: str) -> bool:
        return bool(CFN_LINT_RULE.match(rule))


@lru_cache(maxsize=1)
def load() -> tuple[Suppression, ...]:
    entries = yaml.load(FILE.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    return tuple(
        Suppression(
            rules=tuple(entry["rules"]),
            template=entry["template"],
            resource=entry["resource"],
            reason=" ".join(entry["reason"].split()),
            environments=tuple(entry["environments"]) if "environments" in entry else None,
        )
        for entry in entries
    )


# ---- documented opt-ins -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OptIn:
    """A documented spec option that causes known findings: `accepted` names them (its resource a pattern that
    covers every resource the option can put at risk: how `audit` finds the reason of a suppressed finding),
    `resources(spec)` the logical IDs this spec puts at risk (empty when the option is not chosen)."""

    accepted: Suppression
    resources: Callable[[EnvironmentSpec], list[str]]


def _http_only(spec: EnvironmentSpec) -> list[str]:
    return ["HttpListener"] if spec.load_balancer is not None and spec.load_balancer.http_only else []


def _unprotected_load_balancer(spec: EnvironmentSpec) -> list[str]:
    settings = spec.load_balancer
    if settings is None or spec.production:
        return []
    protection = settings.deletion_protection if settings.deletion_protection is not None else spec.production
    return [] if protection else ["LoadBalancer"]


def _unprotected_network_load_balancer(spec: EnvironmentSpec) -> list[str]:
    """A service's NLB (public_ports) has deletion protection exactly in production (templates/loadbalancer.py)."""
    if spec.production or not any(service.public_ports for service in spec.services.values()):
        return []
    return ["NetworkLoadBalancer"]


def _mutable_repositories(spec: EnvironmentSpec) -> list[str]:
    return [
        f"{pascal(key)}Repository"
        for key, repository in sorted(spec.repositories.items())
        if not repository.immutable_tags
    ]


def _unprotected_database(spec: EnvironmentSpec) -> list[str]:
    database = spec.database
    return (
        ["DatabaseCluster"] if database is not None and not database.deletion_protection and not spec.production else []
    )


OPT_INS = (
    OptIn(
        Suppression(
            rules=("CKV_AWS_2", "CKV_AWS_103", "alb_http_to_https_redirection_check"),
            template="loadbalancer.json",
            resource="HttpListener",
            reason="load_balancer.http_only: true is chosen explicitly in the spec: the load balancer has no "
            "certificate and serves plain HTTP on port 80; giving load_balancer.dns or certificate_arn turns HTTPS "
            "and the redirect on.",
            origin="opt-in load_balancer.http_only: true",
        ),
        _http_only,
    ),
    OptIn(
        Suppression(
            rules=("elbv2_deletion_protection_enabled_check",),
            template="loadbalancer.json",
            resource="LoadBalancer",
            reason="Non-production environments must be deletable by `destroy`; production ALBs have deletion "
            "protection on.",
            origin="opt-in load_balancer.deletion_protection off outside production (the default)",
        ),
        _unprotected_load_balancer,
    ),
    OptIn(
        Suppression(
            rules=("elbv2_deletion_protection_enabled_check",),
            template="service-*.json",
            resource="NetworkLoadBalancer",
            reason="Non-production environments must be deletable by `destroy`; with production true the "
            "service's network load balancer has deletion protection on, and a production spec cannot turn it off.",
            origin="opt-in services.<name>.public_ports outside production (NLB deletion protection off)",
        ),
        _unprotected_network_load_balancer,
    ),
    OptIn(
        Suppression(
            rules=("CKV_AWS_51", "ecr_private_tag_immutability_enabled_check"),
            template="bootstrap.json",
            resource="*Repository",
            reason="repositories.<name>.immutable_tags: false is chosen explicitly in the spec for this repository, "
            "which is deployed with a moving tag such as `latest`; every repository without it stays immutable.",
            origin="opt-in repositories.<name>.immutable_tags: false",
        ),
        _mutable_repositories,
    ),
    OptIn(
        Suppression(
            rules=("rds_cluster_deletion_protection_enabled_check",),
            template="data.json",
            resource="DatabaseCluster",
            reason="database.deletion_protection: false is chosen explicitly outside production, so that `destroy` "
            "can delete the cluster (a final snapshot is kept); a production spec cannot turn it off.",
            origin="opt-in database.deletion_protection: false outside production",
        ),
        _unprotected_database,
    ),
)


def known() -> tuple[Suppression, ...]:
    """Every built-in acceptance with its reason: suppressions.yaml, then the documented opt-ins."""
    return (*load(), *(opt_in.accepted for opt_in in OPT_INS))


def built_in(rule: str, target: str, file_name: str, resource: str) -> Suppression | None:
    """The built-in acceptance of `rule` on `resource` of `file_name` in environment `target`, if any."""
    return next((entry for entry in known() if entry.covers(rule, target, file_name, resource)), None)


# ---- writing ----------------------------------------------------------------------------------------


def apply(
    target: str, templates: dict[str, Template], spec: EnvironmentSpec | None = None
) -> list[tuple[Suppression, str]]:
    """Write each matching suppression into its resource's Metadata; returns (suppression, file) pairs used.
    With `spec`, its documented opt-ins and its `accepted_risks` that name a resource are written too."""
    used = []
    for suppression in load():
        for file_name, template in sorted(templates.items()):
            if not suppression.applies(target, file_name):
                continue
            if any(char in suppression.resource for char in "*?["):
                named = [item for key, item in sorted(template.resources.items()) if suppression.names(key)]
            else:  # a plain logical ID, looked up (most entries: the build stays fast at hundreds of templates)
                named = [template.resources[suppression.resource]] if suppression.resource in template.resources else []
            for resource in named:
                _write(suppression, resource)
                used.append((suppression, file_name))
    if spec is not None:
        used += _apply_opt_ins(target, templates, spec)
        used += _apply_accepted(templates, spec)
    return used


def _apply_opt_ins(target: str, templates: dict[str, Template], spec: EnvironmentSpec) -> list[tuple[Suppression, str]]:
    used = []
    for opt_in in OPT_INS:
        entry = opt_in.accepted
        at_risk = opt_in.resources(spec)
        for file_name, template in sorted(templates.items()):
            if not at_risk or not entry.applies(target, file_name):
                continue
            for key in (key for key in at_risk if key in template.resources):
                # a reviewed `environments:` entry of suppressions.yaml for the same finding keeps its own reason
                rules = tuple(
                    rule for rule in entry.rules if not any(s.covers(rule, target, file_name, key) for s in load())
                )
                if rules:
                    _write(
                        Suppression(rules, file_name, key, entry.reason, origin=entry.origin), template.resources[key]
                    )
                    used.append((entry, file_name))
    return used


def _apply_accepted(templates: dict[str, Template], spec: EnvironmentSpec) -> list[tuple[Suppression, str]]:
    used = []
    for index, risk in enumerate(spec.accepted_risks):
        if risk.resource is None or CONTROL_ID.match(risk.check):  # audit applies these to its report only
            continue
        entry = accepted(index, risk)
        for file_name, template in sorted(templates.items()):
            if not entry.applies("", file_name):
                continue
            for _, resource in sorted((key, item) for key, item in template.resources.items() if entry.names(key)):
                _write(entry, resource)
                used.append((entry, file_name))
    return used


def accepted(index: int, risk) -> Suppression:
    """The spec's `accepted_risks[index]` as a suppression (any template or resource where it names none)."""
    return Suppression(
        rules=(risk.check,),
        template=risk.template or "*",
        resource=risk.resource or "*",
        reason=" ".join(risk.reason.split()),
        origin=f"accepted_risks.{index}",
    )


def _write(suppression: Suppression, resource) -> None:
    metadata = dict(getattr(resource, "Metadata", None) or {})
    checkov = [
        {"id": rule, "comment": suppression.reason} for rule in suppression.rules if suppression.is_checkov(rule)
    ]
    lint = [rule for rule in suppression.rules if suppression.is_cfnlint(rule)]
    guard = [rule for rule in suppression.rules if not suppression.is_checkov(rule) and rule not in lint]
    if checkov:
        metadata.setdefault("checkov", {}).setdefault("skip", []).extend(checkov)
    if guard:
        metadata.setdefault("guard", {}).setdefault("SuppressedRules", []).extend(guard)
    if lint:
        metadata.setdefault("cfn-lint", {}).setdefault("config", {}).setdefault("ignore_checks", []).extend(lint)
    resource.Metadata = metadata
