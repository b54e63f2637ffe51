"""`python build.py diagram`: ARCHITECTURE.md drawn from the emitted templates, rendered for real.

The render tests run the real Mermaid renderer (npm @mermaid-js/mermaid-cli driving Debian's chromium, both
installed by `bash .ci/install-mermaid.sh`). Without them the render tests fail when CI is set and are
skipped (with the install command) only when it is not.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from bench import synthetic
from stackloom import build as compiler
from stackloom.cfn.evaluate import Built
from stackloom.cli.main import main
from stackloom.cli.report import architecture
from stackloom.output import write
from stackloom.report import mermaid
from stackloom.report.inventory import inventory
from templates import spec as spec_module

from ..helpers import PARAMS, PROJECT, TARGETS
from .test_cost import small_environment

PUPPETEER_CONFIG = PROJECT / ".ci" / "puppeteer-config.json"
CHROMIUM = Path("/usr/bin/chromium")
DOCS = PROJECT / "docs"


def mmdc() -> Path | None:
    candidates = [os.environ.get("MMDC"), PROJECT / ".tools/mermaid/node_modules/.bin/mmdc", shutil.which("mmdc")]
    return next((Path(item) for item in candidates if item and Path(item).is_file()), None)


def require_renderer() -> Path:
    """The mmdc binary; a clear failure in CI (CI set) or a skip on a developer machine when it is missing."""
    executable = mmdc()
    missing = ([] if executable else ["mermaid-cli (mmdc)"]) + ([] if CHROMIUM.is_file() else [str(CHROMIUM)])
    if missing:
        message = (
            f"Mermaid renderer not installed: {', '.join(missing)} missing; "
            f"install with `bash .ci/install-mermaid.sh` (apt chromium + npm @mermaid-js/mermaid-cli)"
        )
        if "CI" in os.environ:
            pytest.fail(message)
        pytest.skip(message)
    return executable


def render(source: str, folder: Path) -> subprocess.CompletedProcess:
    """Run mmdc on a Mermaid source; the PNG is folder/diagram.png."""
    executable = require_renderer()
    (folder / "diagram.mmd").write_text(source, encoding="utf-8")
    return subprocess.run(
        [
            str(executable),
            "-i",
            str(folder / "diagram.mmd"),
            "-o",
            str(folder / "diagram.png"),
            "-p",
            str(PUPPETEER_CONFIG),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def mermaid_block(document: str) -> str:
    found = re.findall(r"```mermaid\n(.*?)```", document, re.DOTALL)
    assert len(found) == 1, "expected exactly one mermaid block"
    return found[0]


def assert_rendered(source: str, folder: Path) -> None:
    result = render(source, folder)
    assert result.returncode == 0, f"mmdc failed ({result.returncode}):\n{result.stderr[-3000:]}"
    width, height = png_size(folder / "diagram.png")
    # Mermaid draws a small error box (about 160 × 90) instead of a diagram over its size limits
    assert width >= 400 and height >= 400, f"rendered only {width} × {height} px: an error box, not the diagram"
    assert (folder / "diagram.png").stat().st_size > 20_000


def drawing(folder: Path, params: dict | None = None) -> str:
    return mermaid.mermaid(inventory(Built(folder, params)))


def node_line(source: str, identifier: str) -> str:
    found = [line.strip() for line in source.splitlines() if re.match(rf"\s*{identifier}[\[\(\{{>]", line)]
    assert len(found) == 1, f"no node {identifier}"
    return found[0]


def edge(source: str, start: str, end: str) -> str:
    """The label of the edge start -> end (empty when unlabelled); fails when there is none."""
    for line in source.splitlines():
        match = re.fullmatch(rf"\s*{start} (?:-->|-\.->|==>)(?:\|\"(.*)\"\|)? {end}", line)
        if match:
            return match.group(1) or ""
    raise AssertionError(f"no edge {start} -> {end}")


def edge_index(source: str, start: str, end: str) -> int:
    """Position of the edge start -> end among all edges (what `linkStyle` numbers refer to)."""
    edges = [line.strip() for line in source.splitlines() if re.search(r" (-->|-\.->|==>)", line)]
    return next(
        index
        for index, line in enumerate(edges)
        if re.fullmatch(rf"{start} (?:-->|-\.->|==>)(?:\|\"[^\"]*\"\|)? {end}", line)
    )


def disabled(source: str) -> set[str]:
    match = re.search(r"^\s*class (\S+) disabled$", source, re.MULTILINE)
    return set(match.group(1).split(",")) if match else set()


# ------------------------------------------------------------------------------------------ rendering


@pytest.mark.parametrize("target", TARGETS)
def test_every_environment_diagram_renders_to_a_png(built, tmp_path, target):
    """GIVEN a built environment WHEN its ARCHITECTURE.md diagram is rendered by mermaid-cli THEN it exits 0
    and writes a real PNG (not an error box)."""
    _, document = architecture(built / target)
    assert_rendered(mermaid_block(document), tmp_path)


def test_a_mermaid_syntax_error_fails_the_render(built, tmp_path):
    """GIVEN a generated diagram with one broken line WHEN rendered THEN mmdc exits 1 with a parse error: the
    render tests above would catch a syntax error in the generator."""
    broken = drawing(built / "vanity-market/preprod").replace(
        "flowchart TB\n", 'flowchart TB\n  A["unclosed --> B\n', 1
    )
    result = render(broken, tmp_path)
    assert result.returncode == 1
    assert "Parse error" in result.stderr or "Error" in result.stderr


def test_names_mermaid_would_read_as_syntax_are_escaped_and_still_render(tmp_path):
    """GIVEN templates whose service, log group and SSM names hold quotes, brackets, pipes, # and HTML WHEN drawn
    THEN no raw special character reaches a label and the diagram renders."""
    folder = small_environment(
        tmp_path / "env",
        service_name='we"ird] <b>x</b> |end| %% #1',
        log_group='/ecs/a#b"c<d>|e%f{g}[h]`i`',
        secret_parameter='/small/dev/"q"<s>[1]',
    )
    source = drawing(folder)
    for line in source.splitlines():
        if line.strip().startswith(("%%", "classDef", "linkStyle")):
            continue
        for quoted in re.findall(r'"([^"]*)"', line):
            plain = re.sub(r"#\w+;", "", quoted.replace("<br/>", ""))
            assert not re.search(r"[\[\]{}|`%<>#]", plain), line
    assert "we#quot;ird#93; #lt;b#gt;x#lt;/b#gt; #124;end#124; #37;#37; #35;1" in source
    assert_rendered(source, tmp_path)


def test_label_escapes_every_character_mermaid_reads_as_syntax():
    """GIVEN text with Mermaid syntax characters WHEN made a label THEN each becomes an entity code."""
    assert (
        mermaid.label('a"b', "<c>|#", "[x]{y}`%")
        == '"a#quot;b<br/>#lt;c#gt;#124;#35;<br/>#91;x#93;#123;y#125;#96;#37;"'
    )


# ------------------------------------------------------------------------------------------ content


def test_vpc_subnets_alb_nat_services_and_stores_are_drawn(built):
    """GIVEN vanity-market/preprod WHEN drawn THEN VPC > public (ALB, NAT) / private (cluster: services, EC2
    capacity; Aurora) subgraphs, services with compute, CPU/memory and port."""
    source = drawing(built / "vanity-market/preprod")
    order = [line.strip().split("[")[0] for line in source.splitlines() if line.strip().startswith(("subgraph", "end"))]
    assert order[:4] == ["subgraph AWS", "subgraph VPC", "subgraph PUBLIC", "end"]
    assert 'subgraph VPC["VPC 10.11.0.0/16 · 2 AZs"]' in source
    assert "Application Load Balancer backend-alb" in node_line(source, "ALB")
    assert "NAT gateway 1" in node_line(source, "NAT1")
    assert "Fargate · 512 CPU units / 1024 MiB<br/>port 3000 · desired 1" in node_line(source, "SVC_backend")
    assert "EC2 · 1024 CPU units / 2048 MiB<br/>port 7465" in node_line(source, "SVC_yagna")
    assert "t3.medium" in node_line(source, "EC2CAP")
    assert "Serverless v2 0.5-1 ACU" in node_line(source, "DB_DatabaseCluster")
    private = source[source.index("subgraph PRIVATE") : source.index("CLOUDMAP[")]
    assert "SVC_backend[" in private and "DB_DatabaseCluster[(" in private and "ALB[" not in private


def test_traffic_arrows_internet_alb_service_and_service_to_service(built):
    """GIVEN vanity-market/preprod WHEN drawn THEN Internet -> ALB (listener), ALB -> backend (route and port),
    backend -> yagna (the security group flow, by its Cloud Map name) and backend -> Aurora (5432)."""
    source = drawing(built / "vanity-market/preprod")
    assert edge(source, "INTERNET", "ALB") == "HTTP 80"
    assert edge(source, "ALB", "SVC_backend") == "/* → port 3000"
    assert edge(source, "SVC_backend", "SVC_yagna") == "tcp 7465 via yagna.vanity-market-preprod.local"
    assert edge(source, "SVC_backend", "DB_DatabaseCluster") == "tcp 5432"


def test_services_register_in_cloud_map_and_yagna_reaches_the_golem_network(built):
    """GIVEN vanity-market/preprod WHEN drawn THEN both services register in Cloud Map, egress goes to the NAT
    gateway and on to the internet gateway, and yagna's egress is drawn to the Golem network."""
    source = drawing(built / "vanity-market/preprod")
    assert edge(source, "SVC_yagna", "CLOUDMAP") == "registers yagna.vanity-market-preprod.local"
    assert edge(source, "SVC_backend", "CLOUDMAP") == "registers backend.vanity-market-preprod.local"
    assert edge(source, "SVC_yagna", "NAT1") == "egress" and edge(source, "NAT1", "IGW")
    assert edge(source, "SVC_yagna", "EXT_Golem_network") == "outbound via NAT"
    assert "EXT_Golem_network" not in source.split("SVC_backend ==>")[-1].split("\n")[0]


def test_secrets_logs_images_and_roles_point_at_the_task(built):
    """GIVEN vanity-market/preprod WHEN drawn THEN SSM -> yagna (its two variables), yagna -> its log group,
    ECR yagna -> yagna (the tag), execution and task roles -> yagna, instance role -> EC2 capacity."""
    source = drawing(built / "vanity-market/preprod")
    assert edge(source, "SECRETS_SSM", "SVC_yagna") == "YAGNA_AUTOCONF_APPKEY, YAGNA_AUTOCONF_ID_SECRET"
    assert "/vanity-market/preprod/yagna/app-key" in node_line(source, "SECRETS_SSM")
    log = next(
        re.match(r"\s*(LOG_\d+)", line).group(1)
        for line in source.splitlines()
        if "/ecs/vanity-market-preprod-yagna" in line
    )
    assert edge(source, "SVC_yagna", log) == "awslogs"
    assert edge(source, "ECR_yagna", "SVC_yagna") == "pull :pre-rel-v0.17.1-preview.golembase.28"
    assert "ecr, kms, logs, ssm" in node_line(source, "ROLE_yagna_execution")
    assert edge(source, "ROLE_yagna_execution", "SVC_yagna") and edge(source, "ROLE_yagna_task", "SVC_yagna")
    assert edge(source, "ROLE_instance", "EC2CAP") == "instance profile"
    assert edge(source, "VPC", "LOG_1") == "flow logs"


FUNCTION = "FN_RestrictDefaultSecurityGroupFunction"


def test_deploy_time_lambda_is_drawn_with_its_log_group_and_the_vpc(built):
    """GIVEN vanity-market/preprod, whose network template has the Lambda function behind the custom resource
    that restricts the VPC's default security group
    WHEN drawn
    THEN a small node for the function in the AWS area (outside the VPC), an arrow to its log group
    (/aws/lambda/...-restrict-default-sg) and an arrow to the VPC; the tables name it too."""
    # GIVEN
    folder = built / "vanity-market/preprod"
    # WHEN
    source = drawing(folder)
    _, document = architecture(folder)
    # THEN
    assert node_line(source, FUNCTION) == (
        f'{FUNCTION}("Lambda restrict default security group<br/>' f'runs at deploy time · python3.12")'
    )
    aws = source[source.index("subgraph AWS") :]
    vpc = source[source.index("subgraph VPC") : source.index("CLOUDMAP[")]
    assert f"{FUNCTION}(" in aws and f"{FUNCTION}(" not in vpc
    log = next(
        re.match(r"\s*(LOG_\d+)", line).group(1)
        for line in source.splitlines()
        if "/aws/lambda/vanity-market-preprod-restrict-default-sg" in line
    )
    assert edge(source, FUNCTION, log) == "logs"
    assert edge(source, FUNCTION, "VPC") == "revokes default security group rules"
    assert FUNCTION not in disabled(source)
    assert (
        "- Lambda function `vanity-market-preprod-restrict-default-sg` (python3.12), behind the custom resource "
        "`Custom::RestrictDefaultSecurityGroup`: runs at deploy time; revokes default security group rules; "
        "logs to `/aws/lambda/vanity-market-preprod-restrict-default-sg`."
    ) in document


def test_no_lambda_node_or_arrows_without_the_function_in_the_templates(built, tmp_path):
    """GIVEN the small hand-made environment (no Lambda function) and a copy of vanity-market/preprod whose
    network template has the function and its custom resource removed by hand
    WHEN drawn
    THEN no function node and no arrow to the VPC or from anything into the lambda log group."""
    # GIVEN
    small = small_environment(tmp_path / "small")
    folder = tmp_path / "preprod"
    shutil.copytree(built / "vanity-market/preprod", folder)
    network = json.loads((folder / "network.json").read_text())
    for logical_id in ("RestrictDefaultSecurityGroup", "RestrictDefaultSecurityGroupFunction"):
        del network["Resources"][logical_id]
    (folder / "network.json").write_text(json.dumps(network))
    # WHEN
    sources = {"small": drawing(small), "preprod without the function": drawing(folder)}
    # THEN
    for name, source in sources.items():
        assert "FN_" not in source and "Lambda" not in source, name
        assert not re.search(r" (?:-->|-\.->|==>)(?:\|\"[^\"]*\"\|)? VPC$", source, re.MULTILINE), name
    source = sources["preprod without the function"]
    log = next(
        re.match(r"\s*(LOG_\d+)", line).group(1)
        for line in source.splitlines()
        if "/aws/lambda/vanity-market-preprod-restrict-default-sg" in line
    )
    assert not re.search(rf" (?:-->|-\.->|==>)(?:\|\"[^\"]*\"\|)? {log}$", source, re.MULTILINE)
    assert_rendered(source, tmp_path)


def test_redis_route53_alias_and_acm_certificate(built):
    """GIVEN bet2wealth/production WHEN drawn THEN backend -> Redis (6379), the Route53 alias -> ALB, the ACM
    certificate -> ALB, HTTPS and the redirecting HTTP listener, and Secrets Manager -> backend."""
    source = drawing(built / "bet2wealth/production")
    assert edge(source, "SVC_backend", "CACHE_CacheReplicationGroup") == "tcp 6379"
    assert "2 × cache.t4g.small<br/>Multi-AZ · TLS" in node_line(source, "CACHE_CacheReplicationGroup")
    assert "api.production.bet2wealth.co" in node_line(source, "R53_1")
    assert edge(source, "R53_1", "ALB") == "alias"
    assert "ACM api.production.bet2wealth.co" in node_line(source, "ACM_ALB_1")
    assert edge(source, "ACM_ALB_1", "ALB") == "TLS certificate"
    assert edge(source, "INTERNET", "ALB") == "HTTP 80, HTTPS 443"
    assert "HTTP 80: redirect to HTTPS 443" in node_line(source, "ALB")
    assert edge(source, "SECRETS_SECRETSMANAGER", "SVC_backend") == "PAYMENT_API_KEY, REDIS_AUTH_TOKEN"


def test_aurora_behind_the_off_condition_is_greyed_with_its_arrows(built):
    """GIVEN vanity-market/preprod (EnableDatabase=false) WHEN drawn THEN Aurora, the RDS-managed secret and
    the arrows to the backend are in the disabled class / greyed link style, with the reason on the node."""
    source = drawing(built / "vanity-market/preprod")
    assert {"DB_DatabaseCluster", "SECRETS_SECRETSMANAGER"} <= disabled(source)
    assert "OFF: condition DatabaseEnabled is false: EnableDatabase=false" in node_line(source, "DB_DatabaseCluster")
    greyed = set(re.search(r"linkStyle ([\d,]+) ", source).group(1).split(","))
    assert str(edge_index(source, "SVC_backend", "DB_DatabaseCluster")) in greyed
    assert str(edge_index(source, "SECRETS_SECRETSMANAGER", "SVC_backend")) in greyed
    assert "classDef disabled fill:#e6e6e6" in source


def test_param_override_draws_the_database_switched_on(built):
    """GIVEN --param EnableDatabase=true WHEN drawn THEN nothing is greyed."""
    source = drawing(built / "vanity-market/preprod", {"EnableDatabase": "true"})
    assert not disabled(source) and "linkStyle" not in source
    assert "OFF" not in node_line(source, "DB_DatabaseCluster")


def test_diagram_is_drawn_from_the_emitted_templates_not_the_spec(built, tmp_path):
    """GIVEN a built environment whose emitted task definition is edited by hand WHEN drawn with --no-build
    THEN the diagram shows the edited size (the templates are the source, not params/)."""
    folder = tmp_path / "preprod"
    shutil.copytree(built / "vanity-market/preprod", folder)
    template = json.loads((folder / "service-backend.json").read_text())
    template["Resources"]["TaskDefinition"]["Properties"].update(Cpu="2048", Memory="4096")
    (folder / "service-backend.json").write_text(json.dumps(template))
    assert "2048 CPU units / 4096 MiB" in node_line(drawing(folder), "SVC_backend")


def test_large_systems_stay_within_mermaid_limits(tmp_path):
    """GIVEN the 120-service synthetic system WHEN drawn THEN it is summarised under Mermaid's default limits
    (500 edges, 50,000 characters), which a diagram cannot raise for itself (GitHub renders with defaults)."""
    folder = write(compiler.compile_environment(spec_module.parse(synthetic.spec(120))), tmp_path / "out")
    source = drawing(folder)
    assert len(source) < mermaid.MERMAID_MAX_TEXT and mermaid._edge_count(source) < mermaid.MERMAID_MAX_EDGES
    assert sum(1 for line in source.splitlines() if re.match(r"\s*SVC_svc_\d+\[", line)) == 120


# ------------------------------------------------------------------------------------------ command and docs


def test_diagram_command_builds_then_writes_architecture_md(tmp_path, capsys):
    """GIVEN an empty output folder WHEN `build.py diagram vanity-market/preprod --docs DIR` runs THEN the
    environment is built and ARCHITECTURE.md (diagram, legend, tables, cost line) written there and in DIR."""
    code = main(
        [
            "diagram",
            "vanity-market/preprod",
            "--params",
            str(PARAMS),
            "--output",
            str(tmp_path / "out"),
            "--docs",
            str(tmp_path / "docs"),
        ]
    )
    assert code == 0
    document = (tmp_path / "out/vanity-market/preprod/ARCHITECTURE.md").read_text()
    assert (tmp_path / "out/vanity-market/preprod/root.json").is_file()
    assert document == (tmp_path / "docs/vanity-market-preprod.md").read_text()
    assert document.startswith("# Architecture: vanity-market preprod")
    for part in (
        "```mermaid\nflowchart TB",
        "## Services",
        "## Allowed traffic",
        "EnableDatabase=false (default)",
        "per month",
        "EXTERNAL_NETWORKS",
    ):
        assert part in document, part


def test_diagram_command_rejects_an_unknown_parameter(tmp_path, capsys):
    """GIVEN --param Nope=1 WHEN `build.py diagram` runs THEN exit 2 and the known parameters are named."""
    code = main(
        ["diagram", "vanity-market/preprod", "--params", str(PARAMS), "--output", str(tmp_path), "--param", "Nope=1"]
    )
    assert code == 2 and "EnableDatabase" in capsys.readouterr().err


def test_no_build_without_output_is_a_usage_error(tmp_path, capsys):
    """GIVEN --no-build and an empty output folder WHEN `build.py diagram` runs THEN exit 2 saying to build."""
    code = main(["diagram", "vanity-market/preprod", "--output", str(tmp_path), "--no-build"])
    assert code == 2 and "no built environment" in capsys.readouterr().err


@pytest.mark.parametrize("target", TARGETS)
def test_committed_docs_are_up_to_date(built, target):
    """GIVEN docs/<system>-<env>.md WHEN compared with a fresh drawing THEN equal
    (regenerate: `python build.py diagram bet2wealth ledger vanity-market --docs docs`)."""
    _, document = architecture(built / target)
    committed = DOCS / f"{target.replace('/', '-')}.md"
    assert (
        committed.is_file() and committed.read_text(encoding="utf-8") == document
    ), f"{committed} is stale: run `python build.py diagram bet2wealth ledger vanity-market --docs docs`"


def readme_section() -> str:
    text = (PROJECT / "docs" / "diagrams.md").read_text(encoding="utf-8")
    start = text.index("# Architecture diagrams and cost")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def test_readme_shows_the_current_diagram_of_vanity_preprod(built):
    """GIVEN the README section WHEN its Mermaid block is compared with a fresh drawing THEN equal (regenerate
    with `python build.py diagram vanity-market/preprod --stdout`)."""
    assert mermaid_block(readme_section()) == drawing(built / "vanity-market/preprod")
