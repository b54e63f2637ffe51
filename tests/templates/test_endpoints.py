"""network.endpoints: gateway endpoints on the private route tables, interface endpoints in the private subnets
behind one group that admits HTTPS from the tasks only; with nat: none, the endpoints the spec needs are added."""

from __future__ import annotations

import pytest

from templates import endpoints
from templates.spec import SpecInvalid, parse

from ..helpers import base_spec, compile_dict, resources

EC2 = {"ec2_capacity": {"instance_type": "t3.large", "min_size": 1, "max_size": 3, "desired_capacity": 1}}


def private(data: dict, *listed: str, nat: str = "none") -> dict:
    data["network"] = {**data["network"], "nat": nat, "endpoints": list(listed)}
    return data


def built_endpoints(data: dict) -> dict[str, dict]:
    """Service suffix (`ecr.api`) -> properties of every VPC endpoint, over all templates."""
    found = {}
    for template in compile_dict(data).values():
        if not isinstance(template, dict):
            continue
        for resource in resources(template, "AWS::EC2::VPCEndpoint").values():
            properties = resource["Properties"]
            found[properties["ServiceName"]["Fn::Sub"].split("${AWS::Region}.", 1)[1]] = properties
    return found


def test_gateway_endpoints_go_on_the_private_route_tables_of_the_network_stack():
    # GIVEN NAT per AZ (two private route tables) and the s3 and dynamodb gateway endpoints listed
    data = private(base_spec(), "s3", "dynamodb", nat="per-az")
    # WHEN compiled
    network = compile_dict(data)["network.json"]
    # THEN both are gateway endpoints on both private route tables, none on the public one
    gateways = resources(network, "AWS::EC2::VPCEndpoint")
    assert sorted(gateways) == ["EndpointDynamodb", "EndpointS3"]
    for resource in gateways.values():
        properties = resource["Properties"]
        assert properties["VpcEndpointType"] == "Gateway"
        assert properties["RouteTableIds"] == [{"Ref": "PrivateRouteTable1"}, {"Ref": "PrivateRouteTable2"}]
        assert "PolicyDocument" not in properties  # AWS's default (full access), see templates/endpoints.py
        assert "SubnetIds" not in properties and "SecurityGroupIds" not in properties


def test_interface_endpoints_have_private_dns_the_private_subnets_and_the_endpoint_group():
    # GIVEN NAT and the sqs and sts interface endpoints listed
    data = private(base_spec(), "sqs", "sts", nat="single")
    # WHEN compiled
    security = compile_dict(data)["security.json"]
    # THEN each is an interface endpoint in the private subnets (wired from the network), private DNS on,
    # behind the one endpoints group
    found = resources(security, "AWS::EC2::VPCEndpoint")
    assert sorted(found) == ["EndpointSqs", "EndpointSts"]
    for resource in found.values():
        properties = resource["Properties"]
        assert properties["VpcEndpointType"] == "Interface"
        assert properties["PrivateDnsEnabled"] is True
        assert properties["SubnetIds"] == {"Ref": "PrivateSubnetIds"}
        assert properties["SecurityGroupIds"] == [{"Ref": "EndpointsSecurityGroup"}]
    assert security["Parameters"]["PrivateSubnetIds"]["Type"] == "List<AWS::EC2::Subnet::Id>"
    assert "EndpointsSecurityGroupId" in security["Outputs"]


def test_the_endpoint_group_admits_https_from_the_task_groups_only_and_starts_nothing():
    # GIVEN two services and an interface endpoint
    data = private(base_spec(), "sts", nat="single")
    data["services"]["worker"] = {"port": 9000, "image": {"repository": "api"}}
    # WHEN compiled
    security = compile_dict(data)["security.json"]
    # THEN the endpoints group has no inline ingress, loopback-only egress, and exactly one rule per service
    # group on 443
    group = resources(security, "AWS::EC2::SecurityGroup")["EndpointsSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert group["SecurityGroupEgress"] == [{"CidrIp": "127.0.0.1/32", "Description": "No egress", "IpProtocol": "-1"}]
    rules = [
        rule["Properties"]
        for rule in resources(security, "AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["GroupId"] == {"Ref": "EndpointsSecurityGroup"}
    ]
    assert sorted(rule["SourceSecurityGroupId"]["Ref"] for rule in rules) == [
        "ServiceApiSecurityGroup",
        "ServiceWorkerSecurityGroup",
    ]
    assert all((rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 443, 443) for rule in rules)


def test_ec2_container_instances_reach_the_endpoints_through_a_rule_of_the_cluster_stack():
    # GIVEN EC2 capacity and nat: none
    data = private(base_spec(cluster=EC2))
    # WHEN compiled
    built = compile_dict(data)
    cluster = built["cluster.json"]
    # THEN the cluster stack takes the endpoints group from the security stack and opens 443 from the instances
    rule = resources(cluster, "AWS::EC2::SecurityGroupIngress")["InstanceToEndpointsPort443"]["Properties"]
    assert rule["GroupId"] == {"Ref": "EndpointsSecurityGroupId"}
    assert rule["SourceSecurityGroupId"] == {"Ref": "InstanceSecurityGroup"}
    assert (rule["FromPort"], rule["ToPort"]) == (443, 443)
    wired = built["root.json"]["Resources"]["Cluster"]["Properties"]["Parameters"]["EndpointsSecurityGroupId"]
    assert wired == {"Fn::GetAtt": ["SecurityGroups", "Outputs.EndpointsSecurityGroupId"]}


def test_with_nat_the_listed_endpoints_are_all_there_is():
    # GIVEN NAT and no endpoints listed, as every seed
    # WHEN compiled THEN there is no endpoint, no endpoints group and no extra input
    built = compile_dict(base_spec())
    assert built_endpoints(base_spec()) == {}
    assert "EndpointsSecurityGroup" not in built["security.json"]["Resources"]
    assert "PrivateSubnetIds" not in built["security.json"]["Parameters"]


def test_nat_none_adds_image_pull_and_log_endpoints():
    # GIVEN nat: none, an ECR image, no secret, nothing listed
    # WHEN compiled THEN ECR (API and registry), the S3 gateway for the layers and logs are added
    assert sorted(built_endpoints(private(base_spec()))) == ["ecr.api", "ecr.dkr", "logs", "s3"]


@pytest.mark.parametrize(
    ("feature", "added"),
    [
        ({"secrets": {"TOKEN": {"ssm": "/acme/dev/token"}}}, {"ssm"}),
        ({"secrets": {"TOKEN": {"secrets_manager": "acme/dev/token"}}}, {"secretsmanager"}),
        ({"connects_to": ["cache"]}, {"secretsmanager"}),  # the Redis AUTH token is a Secrets Manager secret
        ({"connects_to": ["database"]}, {"secretsmanager"}),  # so are the database credentials
    ],
)
def test_nat_none_adds_the_secret_store_a_service_reads(feature, added):
    # GIVEN nat: none and a service reading a secret (its own, or one injected for the cache or database)
    data = private(base_spec(cache={}, database={}))
    data["services"]["api"].update(feature)
    # WHEN compiled THEN its store's endpoint is added to the image pull and log endpoints, and no other store's
    assert set(built_endpoints(data)) == {"ecr.api", "ecr.dkr", "logs", "s3"} | added


def test_nat_none_with_ec2_capacity_adds_the_ecs_agent_endpoints():
    # GIVEN nat: none and EC2 capacity WHEN compiled THEN the ECS agent's three endpoints are added
    data = private(base_spec(cluster=EC2))
    assert {"ecs", "ecs-agent", "ecs-telemetry"} <= set(built_endpoints(data))
    assert not {"ecs", "ecs-agent"} & endpoints.needed_endpoints(parse(private(base_spec())))


def test_nat_none_adds_to_the_listed_endpoints_without_repeating_them():
    # GIVEN nat: none and a list holding one needed endpoint and one extra
    data = private(base_spec(), "logs", "kms")
    # WHEN compiled THEN the union is emitted, each once
    assert sorted(built_endpoints(data)) == ["ecr.api", "ecr.dkr", "kms", "logs", "s3"]
    assert endpoints.chosen(parse(data)) == ["ecr.api", "ecr.dkr", "kms", "logs", "s3"]


def test_an_ecr_uri_of_the_region_is_pulled_through_the_endpoints():
    # GIVEN nat: none and an image given as an ECR URI of the spec's region
    data = private(base_spec())
    data["services"]["api"]["image"] = {"uri": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/acme/api"}
    # WHEN compiled THEN it builds, with the ECR endpoints
    assert {"ecr.api", "ecr.dkr", "s3"} <= set(built_endpoints(data))


@pytest.mark.parametrize(
    "uri",
    ["public.ecr.aws/nginx/nginx", "docker.io/library/redis", "123456789012.dkr.ecr.us-east-1.amazonaws.com/acme/api"],
)
def test_nat_none_refuses_an_image_only_the_internet_has(uri):
    # GIVEN nat: none and a service whose image is not in this region's ECR
    data = private(base_spec())
    data["services"]["api"]["image"] = {"uri": uri}
    # WHEN parsed THEN the error names the service's image and says why
    with pytest.raises(SpecInvalid) as error:
        parse(data)
    text = str(error.value)
    assert "services.api.image" in text and uri in text
    assert "needs internet egress; with nat: none only ECR images of eu-central-1 can be pulled" in text


def test_a_public_image_is_fine_with_nat():
    data = base_spec()
    data["services"]["api"]["image"] = {"uri": "public.ecr.aws/nginx/nginx"}
    assert parse(data).services["api"].image.uri == "public.ecr.aws/nginx/nginx"


def test_an_unknown_endpoint_is_refused_listing_the_allowed_ones():
    with pytest.raises(SpecInvalid) as error:
        parse(private(base_spec(), "ecr", nat="single"))
    text = str(error.value)
    assert "network.endpoints" in text and "'ecr' is not a VPC endpoint" in text
    assert "gateway dynamodb, s3; interface ecr.api, ecr.dkr, ecs, ecs-agent, ecs-telemetry, kms, logs" in text


def test_an_endpoint_listed_twice_is_refused():
    with pytest.raises(SpecInvalid) as error:
        parse(private(base_spec(), "sqs", "s3", "sqs", nat="single"))
    assert "network.endpoints" in str(error.value) and "lists sqs more than once" in str(error.value)


def test_endpoints_must_be_a_list_of_names():
    with pytest.raises(SpecInvalid) as error:
        parse(private(base_spec(), nat="single") | {"network": {**base_spec()["network"], "endpoints": "s3"}})
    assert "network.endpoints" in str(error.value)


def test_a_gateway_endpoint_alone_with_nat_none_gets_the_rest_added():
    # GIVEN nat: none and only the s3 gateway listed (a user who thought S3 was enough for ECR)
    # WHEN compiled THEN the interface endpoints ECR pulls and logs need are there too
    assert sorted(built_endpoints(private(base_spec(), "s3"))) == ["ecr.api", "ecr.dkr", "logs", "s3"]


def test_needed_endpoints_is_what_nat_none_adds():
    # GIVEN a spec with NAT WHEN asked THEN needed_endpoints still says what its tasks would need without it
    data = base_spec(cluster=EC2)
    data["services"]["api"]["secrets"] = {"TOKEN": {"ssm": "/acme/dev/token"}}
    spec = parse(data)
    assert endpoints.needed_endpoints(spec) == {
        "ecr.api", "ecr.dkr", "s3", "logs", "ssm", "ecs", "ecs-agent", "ecs-telemetry"
    }  # fmt: skip
    assert endpoints.chosen(spec) == []


def test_with_nat_none_granted_resources_bring_their_endpoints():
    # GIVEN services granted a bucket, a table, a queue and a topic, with no NAT
    from templates.endpoints import needed_endpoints
    from templates.spec import parse

    data = base_spec(
        buckets={"uploads": {}},
        tables={"sessions": {"partition_key": {"name": "id"}}},
        queues={"jobs": {"dead_letter_after": 3}},
        topics={"events": {}},
    )
    data["network"]["nat"] = "none"
    data["services"]["api"]["grants"] = {
        "uploads": "read",
        "sessions": "read-write",
        "jobs": "send",
        "events": "publish",
    }
    # THEN the endpoints of those APIs are needed besides the image, log ones
    assert {"s3", "dynamodb", "sqs", "sns"} <= needed_endpoints(parse(data))
    assert "sqs" not in needed_endpoints(
        parse({**data, "services": {"api": {**data["services"]["api"], "grants": {}}}})
    )
