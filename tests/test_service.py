"""service-<name>.json: task definition, roles, logs, route, discovery, deployment safety, autoscaling."""
from __future__ import annotations

from .helpers import assert_has_resource, base_spec, compile_dict, only, resources


def _service(mutate=None, **extra):
    data = base_spec(**extra)
    if mutate:
        mutate(data["services"]["api"])
    return compile_dict(data)


def test_task_definition_sizes_port_and_image_parameter():
    template = _service(lambda s: s.update(cpu=512, memory=1024))["service-api.json"]
    task = only(template, "AWS::ECS::TaskDefinition")["Properties"]
    assert (task["Cpu"], task["Memory"], task["NetworkMode"], task["RequiresCompatibilities"]) == ("512", "1024", "awsvpc", ["FARGATE"])
    container = task["ContainerDefinitions"][0]
    assert container["PortMappings"] == [{"ContainerPort": 8080, "Protocol": "tcp"}]
    assert container["Image"] == {"Fn::Join": [":", [
        {"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/acme-api"}, {"Ref": "ApiImageTag"}]]}
    assert template["Parameters"]["ApiImageTag"]["Default"] == "v1"
    assert container["Privileged"] is False


def test_service_runs_in_private_subnets_without_public_ip_and_rolls_back():
    template = _service()["service-api.json"]
    props = only(template, "AWS::ECS::Service")["Properties"]
    assert props["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    assert props["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] == {"Ref": "PrivateSubnetIds"}
    assert props["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert props["DesiredCount"] == {"Ref": "ApiDesiredCount"}


def test_alb_route_uses_ip_target_group_with_health_check():
    template = _service()["service-api.json"]
    assert_has_resource(template, "AWS::ElasticLoadBalancingV2::TargetGroup",
                        {"TargetType": "ip", "Port": 8080, "HealthCheckPath": "/health"})
    assert_has_resource(template, "AWS::ElasticLoadBalancingV2::ListenerRule", {
        "ListenerArn": {"Ref": "ListenerArn"}, "Actions": [{"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroup"}}]})
    service = only(template, "AWS::ECS::Service")
    assert service["DependsOn"] == ["ListenerRule"]
    assert service["Properties"]["LoadBalancers"] == [
        {"ContainerName": "api", "ContainerPort": 8080, "TargetGroupArn": {"Ref": "TargetGroup"}}]


def test_secrets_come_from_ssm_and_secrets_manager_and_the_role_reads_exactly_those():
    def mutate(service):
        service["secrets"] = {"DB_URL": {"ssm": "/acme/dev/db-url"},
                              "STRIPE": {"secrets_manager": "acme/dev/stripe", "json_key": "key"}}
    template = _service(mutate)["service-api.json"]
    container = only(template, "AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"][0]
    secrets = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
    assert secrets["DB_URL"] == {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/acme/dev/db-url"}
    assert secrets["STRIPE"]["Fn::Sub"][0] == "${Arn}:key::"
    policy = resources(template, "AWS::IAM::Role")["ExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ReadParameters"]["Resource"] == [secrets["DB_URL"]]
    assert by_sid["ReadSecrets"]["Resource"] == [{"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:acme/dev/stripe-??????"}]
    assert by_sid["DecryptViaService"]["Condition"]["StringEquals"]["kms:ViaService"]


def test_logs_go_to_the_named_group_with_retention():
    template = _service(lambda s: s.update(log_group="/ecs/custom", log_retention_days=7))["service-api.json"]
    group = only(template, "AWS::Logs::LogGroup")
    assert group["Properties"] == {**group["Properties"], "LogGroupName": "/ecs/custom", "RetentionInDays": 7}
    container = only(template, "AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"][0]
    assert container["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": "LogGroup"}


def test_cache_connection_injects_endpoint_and_auth_secret():
    template = _service(lambda s: s.update(connects_to=["cache"]), cache={})["service-api.json"]
    container = only(template, "AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"][0]
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert environment["REDIS_HOST"] == {"Ref": "CacheEndpoint"} and environment["REDIS_TLS"] == "true"
    assert {"Name": "REDIS_AUTH_TOKEN", "ValueFrom": {"Ref": "CacheAuthSecretArn"}} in container["Secrets"]


def test_database_secret_is_conditional_on_the_switch():
    template = _service(lambda s: s.update(connects_to=["database"]), database={})["service-api.json"]
    container = only(template, "AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"][0]
    assert {"Fn::If": ["DatabaseEnabled", {"Name": "DATABASE_CREDENTIALS", "ValueFrom": {"Ref": "DatabaseSecretArn"}},
                       {"Ref": "AWS::NoValue"}]} in container["Secrets"]


def test_autoscaling_tracks_cpu_between_bounds():
    template = _service(lambda s: s.update(autoscaling={"min_capacity": 2, "max_capacity": 6, "cpu_target_percent": 55}))
    template = template["service-api.json"]
    assert_has_resource(template, "AWS::ApplicationAutoScaling::ScalableTarget",
                        {"MinCapacity": 2, "MaxCapacity": 6, "ScalableDimension": "ecs:service:DesiredCount"})
    assert_has_resource(template, "AWS::ApplicationAutoScaling::ScalingPolicy", {
        "PolicyType": "TargetTrackingScaling", "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 55.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}})


def test_ec2_service_uses_the_capacity_provider():
    data = base_spec(cluster={"ec2_capacity": {}})
    data["services"]["api"].update(compute="ec2")
    template = compile_dict(data)["service-api.json"]
    props = only(template, "AWS::ECS::Service")["Properties"]
    assert props["CapacityProviderStrategy"][0]["CapacityProvider"] == {"Ref": "Ec2CapacityProviderName"}
    assert only(template, "AWS::ECS::TaskDefinition")["Properties"]["RequiresCompatibilities"] == ["EC2"]


def test_discovery_registers_an_a_record():
    template = _service()["service-api.json"]
    assert_has_resource(template, "AWS::ServiceDiscovery::Service", {
        "Name": "api", "NamespaceId": {"Ref": "NamespaceId"}, "DnsConfig": {"DnsRecords": [{"Type": "A"}]}})
    assert only(template, "AWS::ECS::Service")["Properties"]["ServiceRegistries"] == [
        {"RegistryArn": {"Fn::GetAtt": ["DiscoveryService", "Arn"]}}]


def test_the_spec_wins_a_name_clash_with_an_injected_variable_in_either_list():
    # GIVEN a service connected to the cache that defines REDIS_AUTH_TOKEN (injected as a secret) as a plain value
    # and REDIS_HOST (injected as a plain value) as a secret
    def mutate(service):
        service.update(connects_to=["cache"], environment={"REDIS_AUTH_TOKEN": "none"},
                       secrets={"REDIS_HOST": {"ssm": "/acme/dev/redis-host"}})
    template = _service(mutate, cache={})["service-api.json"]
    container = only(template, "AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"][0]
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    secrets = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
    # THEN each name appears once, where the spec put it (ECS refuses a name in both lists)
    assert environment["REDIS_AUTH_TOKEN"] == "none" and "REDIS_AUTH_TOKEN" not in secrets
    assert "ssm" in secrets["REDIS_HOST"]["Fn::Sub"] and "REDIS_HOST" not in environment
    assert environment["REDIS_PORT"] == "6379"


def test_text_with_dollar_brace_is_emitted_unchanged_without_a_reference():
    # GIVEN a command and a variable that contain ${...} meant for the shell
    template = _service(lambda s: s.update(command=["sh", "-c", "echo ${HOME}"], environment={"A": "${B}-x"}))["service-api.json"]
    container = only(template, "AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"][0]
    # THEN the value is a join that yields the text as written, with no `${` for CloudFormation to read
    assert container["Command"] == ["sh", "-c", {"Fn::Join": ["", ["echo $", "{HOME}"]]}]
    assert {"Name": "A", "Value": {"Fn::Join": ["", ["$", "{B}-x"]]}} in container["Environment"]


def test_writable_paths_that_would_share_a_volume_name_get_distinct_ones():
    template = _service(lambda s: s.update(readonly_root_filesystem=True, writable_paths=["/tmp", "/TMP", "/var/cache"]))
    task = only(template["service-api.json"], "AWS::ECS::TaskDefinition")["Properties"]
    assert [v["Name"] for v in task["Volumes"]] == ["scratchTmp1", "scratchTmp2", "scratchVarCache"]
    assert [(m["ContainerPath"], m["SourceVolume"]) for m in task["ContainerDefinitions"][0]["MountPoints"]] == [
        ("/tmp", "scratchTmp1"), ("/TMP", "scratchTmp2"), ("/var/cache", "scratchVarCache")]
