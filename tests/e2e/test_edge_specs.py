"""Specs at the edges of what the schema allows, each built, linted (cfn-lint for the spec's own region) and
deployed on the local endpoint (127.0.0.1 only): three AZs, a /24 VPC with explicit subnets, eight services
with 24-character dashed names, another region, an existing certificate (`certificate_arn`, with `--local`
and without the certificate on a plain endpoint), and no NAT gateway. Each starts from a copy of an example
spec in params/ and changes only its edge; the test then checks the facts of that edge on the deployed stack."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from stackloom import manifest as manifests
from stackloom.audit import lint
from stackloom.cli.main import main
from stackloom.params import merged_spec

from ..helpers import PARAMS
from .local_endpoint import aws, hosted_zone, local_endpoint, local_endpoint_server  # noqa: F401

VANITY_ACCOUNT = yaml.safe_load((PARAMS / "vanity-market" / "preprod.yaml").read_text())["account_id"]
CERTIFICATE = f"arn:aws:acm:eu-central-1:{VANITY_ACCOUNT}:certificate/0b5e1a2c-3d4f-4a6b-8c9d-0e1f2a3b4c5d"
LONG_NAMES = [  # 24 characters each, the longest a service name may be (spec_common.SERVICE_NAME_PATTERN)
    "payments-ledger-reconcil",
    "notifications-dispatcher",
    "customer-identity-broker",
    "order-fulfilment-tracker",
    "inventory-stock-projecto",
    "search-index-synchronise",
    "pricing-rules-evaluator1",
    "audit-trail-archiver-v02",
]


def example(target: str) -> dict:
    """An example environment as one self-contained spec (its params layers merged)."""
    return merged_spec(PARAMS / f"{target}.yaml").data


def three_azs() -> dict:
    spec = example("bet2wealth/dev")
    spec["network"].update(availability_zones=["eu-central-1a", "eu-central-1b", "eu-central-1c"], nat="per-az")
    spec["cache"]["nodes"] = 3
    return spec


def small_vpc() -> dict:
    spec = example("bet2wealth/dev")
    spec["network"] = {
        "cidr": "10.40.0.0/24",
        "availability_zones": 2,
        "nat": "single",
        "public_subnets": ["10.40.0.0/26", "10.40.0.64/26"],
        "private_subnets": ["10.40.0.128/26", "10.40.0.192/26"],
    }
    return spec


def many_services() -> dict:
    spec = example("bet2wealth/dev")
    template = spec["services"].pop("backend")
    spec.pop("cache")
    spec["repositories"], spec["services"] = {}, {}
    for index, name in enumerate(LONG_NAMES):
        assert len(name) == 24
        service = copy.deepcopy(template)
        service.update(
            image={"repository": name, "tag": "v1"},
            load_balancer={"path_patterns": [f"/{name}/*"], "priority": 100 + index, "health_check_path": "/health"},
            log_group=f"/ecs/edge-many-services-{name}",
            secrets={},
            connects_to=[],
        )
        spec["repositories"][name] = {"name": f"edge-{name}"}
        spec["services"][name] = service
    return spec


def other_region() -> dict:
    spec = example("bet2wealth/dev")
    spec["region"] = "us-west-2"
    spec["network"]["availability_zones"] = ["us-west-2a", "us-west-2b"]
    return spec


def certificate() -> dict:
    spec = example("vanity-market/preprod")
    del spec["load_balancer"]["http_only"]
    spec["load_balancer"]["certificate_arn"] = CERTIFICATE
    return spec


def no_nat() -> dict:
    spec = example("bet2wealth/dev")
    spec["network"]["nat"] = "none"
    return spec


def write_spec(params: Path, environment: str, spec: dict) -> str:
    """params/edge/<environment>.yaml; the example's own SSM paths moved under the new environment's prefix."""
    spec = {**spec, "system": "edge", "environment": environment}
    text = yaml.safe_dump(spec, sort_keys=False)
    for prefix in ("/vanity-market/preprod/", "/bet2wealth/dev/"):
        text = text.replace(prefix, f"/edge/{environment}/")
    (params / "edge").mkdir(parents=True, exist_ok=True)
    (params / "edge" / f"{environment}.yaml").write_text(text)
    return f"edge/{environment}"


@pytest.fixture
def edge(local_endpoint, tmp_path, capsys):
    """edge(name, spec, *deploy_options): write the spec, build it with build.py, lint every emitted template
    for the spec's region, deploy it; returns (deploy exit code, its output, the manifest)."""

    def run(environment: str, spec: dict, *options: str, endpoint: bool = True):
        params, output = tmp_path / "params", tmp_path / "output"
        target = write_spec(params, environment, spec)
        assert main(["build", target, "-q", "--params", str(params), "--output", str(output)]) == 0
        capsys.readouterr()
        folder = output / target
        manifest = manifests.load(folder)
        assert manifest.region == spec.get("region", "eu-central-1")
        files = lint.template_files(folder)
        assert len(files) >= 8
        findings = {path.name: found for path, found in lint.lint_files(files, manifest.region).items() if found}
        assert findings == {}
        where = ["--endpoint-url", local_endpoint.url] if endpoint else []
        argv = ["deploy", target, "--yes", "--poll", "0.05", "--params", str(params), "--output", str(output)]
        code = main(argv + where + list(options))
        captured = capsys.readouterr()
        return code, captured.out + captured.err, manifest

    return run


def complete(client, manifest) -> dict:
    """The root stack is CREATE_COMPLETE with every nested stack; returns the root's outputs. `client`: the
    `aws` fixture, or another region's clients."""
    cloudformation = client("cloudformation")
    root = cloudformation.describe_stacks(StackName=manifest.stack_name)["Stacks"][0]
    assert root["StackStatus"] == "CREATE_COMPLETE"
    resources = cloudformation.list_stack_resources(StackName=manifest.stack_name)["StackResourceSummaries"]
    nested = [item for item in resources if item["ResourceType"] == "AWS::CloudFormation::Stack"]
    assert {item["LogicalResourceId"] for item in nested} == set(manifest.nested_stacks)
    assert {item["ResourceStatus"] for item in nested} == {"CREATE_COMPLETE"}
    return {item["OutputKey"]: item["OutputValue"] for item in root["Outputs"]}


@pytest.fixture
def in_region(local_endpoint):
    """in_region(region, service): a boto3 client on the local endpoint for another region."""
    import boto3

    session = {}

    def client(region: str, service: str):
        if (region, service) not in session:
            session[(region, service)] = boto3.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
            ).client(service, endpoint_url=local_endpoint.url)
        return session[(region, service)]

    return client


def subnets(ec2, vpc_id: str) -> dict[str, list[dict]]:
    found = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    tiers: dict[str, list[dict]] = {}
    for subnet in found:
        tier = {tag["Key"]: tag["Value"] for tag in subnet.get("Tags", [])}["Tier"]
        tiers.setdefault(tier, []).append(subnet)
    return tiers


def nat_gateways(ec2, vpc_id: str) -> list[dict]:
    gateways = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NatGateways"]
    return [gateway for gateway in gateways if gateway["State"] != "deleted"]


def test_three_availability_zones(edge, aws, hosted_zone):
    code, out, manifest = edge("three-azs", three_azs())
    assert code == 0, out
    vpc = complete(aws, manifest)["VpcId"]
    # THEN each tier has one subnet in each of the three zones, and (per-az) one NAT gateway in each
    ec2 = aws("ec2")
    tiers = subnets(ec2, vpc)
    zones = {"eu-central-1a", "eu-central-1b", "eu-central-1c"}
    assert {tier: sorted(s["AvailabilityZone"] for s in found) for tier, found in tiers.items()} == {
        "public": sorted(zones),
        "private": sorted(zones),
    }
    public_ids = {subnet["SubnetId"] for subnet in tiers["public"]}
    gateways = nat_gateways(ec2, vpc)
    assert len(gateways) == 3 and {gateway["SubnetId"] for gateway in gateways} == public_ids
    # AND the load balancer spans the three public subnets
    (balancer,) = aws("elbv2").describe_load_balancers()["LoadBalancers"]
    assert {zone["SubnetId"] for zone in balancer["AvailabilityZones"]} == public_ids


def test_a_slash_24_vpc_with_explicit_subnets(edge, aws, hosted_zone):
    code, out, manifest = edge("small-vpc", small_vpc())
    assert code == 0, out
    vpc = complete(aws, manifest)["VpcId"]
    # THEN the VPC is the /24 and its subnets are exactly the CIDRs listed, in two zones per tier
    ec2 = aws("ec2")
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["CidrBlock"] == "10.40.0.0/24"
    tiers = subnets(ec2, vpc)
    assert sorted(s["CidrBlock"] for s in tiers["public"]) == ["10.40.0.0/26", "10.40.0.64/26"]
    assert sorted(s["CidrBlock"] for s in tiers["private"]) == ["10.40.0.128/26", "10.40.0.192/26"]
    assert all(len({s["AvailabilityZone"] for s in found}) == 2 for found in tiers.values())


def test_eight_services_with_24_character_names(edge, aws, hosted_zone):
    code, out, manifest = edge("many-services", many_services())
    assert code == 0, out
    outputs = complete(aws, manifest)
    # THEN the cluster runs eight services, one per name, each with its URL and routed by its own path
    assert set(manifest.services) == set(LONG_NAMES)
    ecs = aws("ecs")
    (cluster,) = ecs.list_clusters()["clusterArns"]
    arns = ecs.list_services(cluster=cluster, maxResults=100)["serviceArns"]
    assert len(arns) == 8
    described = ecs.describe_services(cluster=cluster, services=arns)["services"]
    assert all(service["status"] == "ACTIVE" for service in described)
    names = " ".join(service["serviceName"] for service in described)
    assert all(name in names for name in LONG_NAMES), names
    urls = {key: value for key, value in outputs.items() if re.fullmatch(r"Service\w+Url", key)}
    assert len(urls) == 8 and all(value.startswith(outputs["BaseUrl"]) for value in urls.values())
    elbv2 = aws("elbv2")
    (balancer,) = elbv2.describe_load_balancers()["LoadBalancers"]
    paths = set()
    for listener in elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]:
        for rule in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
            for condition in rule.get("Conditions", []):
                paths.update(condition.get("PathPatternConfig", {}).get("Values", []) or condition.get("Values", []))
    assert {f"/{name}/*" for name in LONG_NAMES} <= paths
    # AND the eight repositories exist in the bootstrap stack
    repositories = {r["repositoryName"] for r in aws("ecr").describe_repositories()["repositories"]}
    assert repositories == {f"edge-{name}" for name in LONG_NAMES}


def test_another_region(edge, aws, in_region, hosted_zone):
    code, out, manifest = edge("us-west", other_region())
    assert code == 0, out
    assert "-> endpoint http://127.0.0.1:" in out and "(us-west-2)" in out
    cloudformation = in_region("us-west-2", "cloudformation")
    # THEN the stacks live in us-west-2 (and not in eu-central-1), complete, with subnets in us-west-2's zones
    complete(lambda service: in_region("us-west-2", service), manifest)
    root = cloudformation.describe_stacks(StackName=manifest.stack_name)["Stacks"][0]
    assert root["StackId"].startswith("arn:aws:cloudformation:us-west-2:")
    assert aws("cloudformation").list_stacks()["StackSummaries"] == []
    vpc = {o["OutputKey"]: o["OutputValue"] for o in root["Outputs"]}["VpcId"]
    tiers = subnets(in_region("us-west-2", "ec2"), vpc)
    assert {s["AvailabilityZone"] for found in tiers.values() for s in found} == {"us-west-2a", "us-west-2b"}
    # AND the repository URIs name the region
    assert ".dkr.ecr.us-west-2.amazonaws.com/bet2wealth-backend-dev" in out


def https_certificates(elbv2) -> list[str]:
    (balancer,) = elbv2.describe_load_balancers()["LoadBalancers"]
    listeners = elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
    return [item["CertificateArn"] for li in listeners if li["Protocol"] == "HTTPS" for item in li["Certificates"]]


def test_an_existing_certificate_with_local(edge, aws):
    # WHEN a spec naming an existing certificate is deployed with --local (an embedded endpoint; it shares this
    # process's moto backends with the session's endpoint, through which the result is read)
    code, out, manifest = edge("certificate", certificate(), "--local", endpoint=False)
    # THEN --local made the certificate the account would have, as it makes a spec's hosted zone
    assert code == 0, out
    assert f"local endpoint: created certificate {CERTIFICATE} (in a real account it already exists)" in out
    assert re.search(r"-> local endpoint http://127\.0\.0\.1:\d+ \(embedded", out)
    outputs = complete(aws, manifest)
    # AND the HTTPS listener uses exactly that certificate; HTTP redirects to it
    assert https_certificates(aws("elbv2")) == [CERTIFICATE]
    assert outputs["BaseUrl"].startswith("https://")
    described = aws("acm").describe_certificate(CertificateArn=CERTIFICATE)["Certificate"]
    assert described["Status"] == "ISSUED"


def test_a_missing_certificate_fails_as_on_aws(edge, aws):
    # GIVEN a plain endpoint (not --local) whose account has no such certificate
    # WHEN the spec naming it is deployed
    code, out, manifest = edge("certificate", certificate())
    # THEN the HTTPS listener fails with ELBv2's CertificateNotFound, and the stack is rolled back
    assert code == 1
    assert (
        f"deploy failed at LoadBalancer/HttpsListener (AWS::ElasticLoadBalancingV2::Listener): "
        f"Certificate '{CERTIFICATE}' not found" in out
    ), out
    root = aws("cloudformation").describe_stacks(StackName=manifest.stack_name)["Stacks"][0]
    assert root["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "local endpoint: created certificate" not in out


def test_a_certificate_of_another_account_is_refused_before_any_deploy(tmp_path, capsys):
    # GIVEN a spec whose account is not the certificate's (a listener can use only its own account's)
    spec = certificate()
    other = CERTIFICATE.replace(VANITY_ACCOUNT, "111122223333")
    spec["load_balancer"]["certificate_arn"] = other
    # WHEN it is built (as deploy does first) THEN the build says so, naming both accounts: nothing reaches AWS
    target = write_spec(tmp_path / "params", "certificate", spec)
    assert main(["build", target, "-q", "--params", str(tmp_path / "params"), "--output", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"belongs to account 111122223333, not to this environment's account {VANITY_ACCOUNT}" in err
    assert not (tmp_path / "o").exists()


def test_no_nat_gateway(edge, aws, hosted_zone):
    code, out, manifest = edge("no-nat", no_nat())
    assert code == 0, out
    vpc = complete(aws, manifest)["VpcId"]
    ec2 = aws("ec2")
    # THEN there is no NAT gateway and no Elastic IP for one
    assert nat_gateways(ec2, vpc) == []
    assert ec2.describe_addresses()["Addresses"] == []
    # AND the private subnets' one route table has no default route (no internet egress), while the public one
    # reaches the internet gateway (read by the Network stack's resources: moto leaves a CloudFormation
    # SubnetRouteTableAssociation out of describe_route_tables' Associations)
    cloudformation = aws("cloudformation")
    network = cloudformation.describe_stack_resource(StackName=manifest.stack_name, LogicalResourceId="Network")
    stack_id = network["StackResourceDetail"]["PhysicalResourceId"]
    summaries = cloudformation.list_stack_resources(StackName=stack_id)["StackResourceSummaries"]
    physical = {item["LogicalResourceId"]: item["PhysicalResourceId"] for item in summaries}
    types = {item["ResourceType"] for item in summaries}
    assert "AWS::EC2::NatGateway" not in types and "AWS::EC2::EIP" not in types
    tables = [key for key in physical if re.fullmatch(r"PrivateRouteTable\d+", key)]
    assert tables == ["PrivateRouteTable1"]

    def default_routes(table: str) -> list[dict]:
        (found,) = ec2.describe_route_tables(RouteTableIds=[physical[table]])["RouteTables"]
        return [route for route in found["Routes"] if route.get("DestinationCidrBlock") == "0.0.0.0/0"]

    assert default_routes("PrivateRouteTable1") == []
    assert [route["GatewayId"][:4] for route in default_routes("PublicRouteTable")] == ["igw-"]
    body = cloudformation.get_template(StackName=stack_id)["TemplateBody"]
    body = json.loads(body) if isinstance(body, str) else body
    associations = {
        resource["Properties"]["SubnetId"]["Ref"]: resource["Properties"]["RouteTableId"]["Ref"]
        for resource in body["Resources"].values()
        if resource["Type"] == "AWS::EC2::SubnetRouteTableAssociation"
    }
    assert {key: value for key, value in associations.items() if key.startswith("Private")} == {
        "PrivateSubnet1": "PrivateRouteTable1",
        "PrivateSubnet2": "PrivateRouteTable1",
    }
