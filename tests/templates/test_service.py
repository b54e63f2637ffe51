"""service-<name>.json: task definition, roles, logs, route, discovery, deployment safety, autoscaling."""

from __future__ import annotations

from ..helpers import assert_has_resource, base_spec, compile_dict, only, resources


def _service(mutate=None, **extra):
    data = base_spec(**extra)
    if mutate:
        mutate(data["services"]["api"])
    return compile_dict(data)


def _container(template):
    return only(template, "AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"][0]


def _ec2_service():
    data = base_spec(cluster={"ec2_capacity": {}})
    data["services"]["api"].update(compute="ec2")
    return compile_dict(data)["service-api.json"]


def _sized(service):
    service.update(cpu=512, memory=1024)


def _with_secrets(service):
    service["secrets"] = {
        "DB_URL": {"ssm": "/acme/dev/db-url"},
        "STRIPE": {"secrets_manager": "acme/dev/stripe", "json_key": "key"},
    }


def _secrets(container):
    return {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}


def _execution_policy_statements(template):
    policy = resources(template, "AWS::IAM::Role")["ExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    return {s["Sid"]: s for s in policy["Statement"]}


def test_task_definition_has_the_spec_size_on_fargate_with_awsvpc():
    # GIVEN an api service with cpu 512 and memory 1024
    # WHEN the environment is compiled
    template = _service(_sized)["service-api.json"]
    # THEN the one task definition has cpu "512", memory "1024", awsvpc networking and requires FARGATE
    task = only(template, "AWS::ECS::TaskDefinition")["Properties"]
    assert (task["Cpu"], task["Memory"], task["NetworkMode"], task["RequiresCompatibilities"]) == (
        "512",
        "1024",
        "awsvpc",
        ["FARGATE"],
    )


def test_container_maps_exactly_the_service_port():
    # GIVEN an api service on port 8080 with cpu 512 and memory 1024
    # WHEN the environment is compiled
    container = _container(_service(_sized)["service-api.json"])
    # THEN the container's only port mapping is 8080/tcp
    assert container["PortMappings"] == [{"ContainerPort": 8080, "Protocol": "tcp"}]


def test_container_image_is_the_ecr_repository_at_the_image_tag_parameter():
    # GIVEN an api service whose image is repository "api" (acme-api) at tag v1, with cpu 512 and memory 1024
    # WHEN the environment is compiled
    template = _service(_sized)["service-api.json"]
    # THEN the container image is <account>.dkr.ecr.<region>.<suffix>/acme-api joined with ":" to the ApiImageTag parameter
    assert _container(template)["Image"] == {
        "Fn::Join": [
            ":",
            [
                {"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/acme-api"},
                {"Ref": "ApiImageTag"},
            ],
        ]
    }
    # AND ApiImageTag defaults to the spec's tag v1
    assert template["Parameters"]["ApiImageTag"]["Default"] == "v1"


def test_container_is_not_privileged():
    # GIVEN an api service with cpu 512 and memory 1024
    # WHEN the environment is compiled
    container = _container(_service(_sized)["service-api.json"])
    # THEN the container is explicitly not privileged
    assert container["Privileged"] is False


def test_service_runs_in_private_subnets_without_a_public_ip():
    # GIVEN the base api service
    # WHEN the environment is compiled
    props = only(_service()["service-api.json"], "AWS::ECS::Service")["Properties"]
    # THEN the ECS service assigns no public IP
    assert props["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    # AND places its tasks in the private subnets
    assert props["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] == {"Ref": "PrivateSubnetIds"}


def test_service_deployment_rolls_back_through_the_circuit_breaker():
    # GIVEN the base api service
    # WHEN the environment is compiled
    props = only(_service()["service-api.json"], "AWS::ECS::Service")["Properties"]
    # THEN the deployment circuit breaker is enabled with rollback
    assert props["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


def test_service_desired_count_is_a_parameter():
    # GIVEN the base api service
    # WHEN the environment is compiled
    props = only(_service()["service-api.json"], "AWS::ECS::Service")["Properties"]
    # THEN the desired count is the ApiDesiredCount parameter
    assert props["DesiredCount"] == {"Ref": "ApiDesiredCount"}


def test_alb_route_uses_an_ip_target_group_with_the_health_check():
    # GIVEN the base api service on 8080 with load balancer health check path /health
    # WHEN the environment is compiled
    template = _service()["service-api.json"]
    # THEN an ip target group on port 8080 checks /health
    assert_has_resource(
        template,
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"TargetType": "ip", "Port": 8080, "HealthCheckPath": "/health"},
    )


def test_alb_listener_rule_forwards_to_the_target_group():
    # GIVEN the base api service behind the load balancer
    # WHEN the environment is compiled
    template = _service()["service-api.json"]
    # THEN a listener rule on the shared listener forwards to the service's target group
    assert_has_resource(
        template,
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        {
            "ListenerArn": {"Ref": "ListenerArn"},
            "Actions": [{"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroup"}}],
        },
    )


def test_service_registers_its_container_in_the_target_group_after_the_rule_exists():
    # GIVEN the base api service behind the load balancer
    # WHEN the environment is compiled
    service = only(_service()["service-api.json"], "AWS::ECS::Service")
    # THEN the ECS service depends on exactly the listener rule and the deployment alarms it names
    assert service["DependsOn"] == ["ListenerRule", "CpuHighAlarm", "Http5xxAlarm", "MemoryHighAlarm"]
    # AND registers container api on port 8080 in the target group, and nothing else
    assert service["Properties"]["LoadBalancers"] == [
        {"ContainerName": "api", "ContainerPort": 8080, "TargetGroupArn": {"Ref": "TargetGroup"}}
    ]


def test_ssm_secret_is_read_from_the_parameter_arn():
    # GIVEN an api service with secret DB_URL from SSM /acme/dev/db-url and STRIPE from Secrets Manager acme/dev/stripe
    # WHEN the environment is compiled
    secrets = _secrets(_container(_service(_with_secrets)["service-api.json"]))
    # THEN DB_URL is read from the ARN of SSM parameter /acme/dev/db-url
    assert secrets["DB_URL"] == {
        "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/acme/dev/db-url"
    }


def test_secrets_manager_secret_selects_its_json_key():
    # GIVEN an api service with secret STRIPE from Secrets Manager acme/dev/stripe, json key "key"
    # WHEN the environment is compiled
    secrets = _secrets(_container(_service(_with_secrets)["service-api.json"]))
    # THEN STRIPE is read from the secret's ARN with the JSON key "key"
    assert secrets["STRIPE"]["Fn::Sub"][0] == "${Arn}:key::"


def test_execution_role_reads_exactly_the_declared_ssm_parameters():
    # GIVEN an api service with secret DB_URL from SSM /acme/dev/db-url
    # WHEN the environment is compiled
    template = _service(_with_secrets)["service-api.json"]
    # THEN the execution role's ReadParameters statement covers only the DB_URL parameter
    secrets = _secrets(_container(template))
    assert _execution_policy_statements(template)["ReadParameters"]["Resource"] == [secrets["DB_URL"]]


def test_execution_role_reads_exactly_the_declared_secrets_manager_secrets():
    # GIVEN an api service with secret STRIPE from Secrets Manager acme/dev/stripe
    # WHEN the environment is compiled
    template = _service(_with_secrets)["service-api.json"]
    # THEN the execution role's ReadSecrets statement covers only acme/dev/stripe (with its random 6-character suffix)
    assert _execution_policy_statements(template)["ReadSecrets"]["Resource"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:acme/dev/stripe-??????"
        }
    ]


def test_execution_role_decrypts_only_via_the_service():
    # GIVEN an api service with secrets from SSM and Secrets Manager
    # WHEN the environment is compiled
    template = _service(_with_secrets)["service-api.json"]
    # THEN the execution role's DecryptViaService statement is conditioned on kms:ViaService
    assert _execution_policy_statements(template)["DecryptViaService"]["Condition"]["StringEquals"]["kms:ViaService"]


def test_logs_go_to_the_named_group_with_retention():
    # GIVEN an api service with log group /ecs/custom kept 7 days
    # WHEN the environment is compiled
    template = _service(lambda s: s.update(log_group="/ecs/custom", log_retention_days=7))["service-api.json"]
    # THEN the one log group is named /ecs/custom with 7 days retention
    group = only(template, "AWS::Logs::LogGroup")
    assert group["Properties"] == {**group["Properties"], "LogGroupName": "/ecs/custom", "RetentionInDays": 7}


def test_container_logs_to_the_service_log_group():
    # GIVEN an api service with log group /ecs/custom kept 7 days
    # WHEN the environment is compiled
    template = _service(lambda s: s.update(log_group="/ecs/custom", log_retention_days=7))["service-api.json"]
    # THEN the container's awslogs driver writes to that log group
    assert _container(template)["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": "LogGroup"}


def test_cache_connection_injects_the_endpoint_over_tls():
    # GIVEN an api service that connects to the cache
    # WHEN the environment is compiled
    container = _container(_service(lambda s: s.update(connects_to=["cache"]), cache={})["service-api.json"])
    # THEN the environment sets REDIS_HOST to the cache endpoint and REDIS_TLS to "true"
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert environment["REDIS_HOST"] == {"Ref": "CacheEndpoint"} and environment["REDIS_TLS"] == "true"


def test_cache_connection_injects_the_auth_token_as_a_secret():
    # GIVEN an api service that connects to the cache
    # WHEN the environment is compiled
    container = _container(_service(lambda s: s.update(connects_to=["cache"]), cache={})["service-api.json"])
    # THEN REDIS_AUTH_TOKEN is a container secret read from the cache's auth secret
    assert {"Name": "REDIS_AUTH_TOKEN", "ValueFrom": {"Ref": "CacheAuthSecretArn"}} in container["Secrets"]


def test_database_secret_is_conditional_on_the_switch():
    # GIVEN an api service that connects to the database
    # WHEN the environment is compiled
    container = _container(_service(lambda s: s.update(connects_to=["database"]), database={})["service-api.json"])
    # THEN DATABASE_CREDENTIALS is a secret from the database secret only if DatabaseEnabled, else no value
    assert {
        "Fn::If": [
            "DatabaseEnabled",
            {"Name": "DATABASE_CREDENTIALS", "ValueFrom": {"Ref": "DatabaseSecretArn"}},
            {"Ref": "AWS::NoValue"},
        ]
    } in container["Secrets"]


def test_autoscaling_target_scales_the_desired_count_between_the_bounds():
    # GIVEN an api service with autoscaling min 2, max 6, CPU target 55 %
    # WHEN the environment is compiled
    template = _service(
        lambda s: s.update(
            desired_count=2, autoscaling={"min_capacity": 2, "max_capacity": 6, "cpu_target_percent": 55}
        )
    )
    template = template["service-api.json"]
    # THEN a scalable target scales the service's desired count between 2 and 6
    assert_has_resource(
        template,
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": 2, "MaxCapacity": 6, "ScalableDimension": "ecs:service:DesiredCount"},
    )


def test_autoscaling_policy_tracks_the_cpu_target():
    # GIVEN an api service with autoscaling min 2, max 6, CPU target 55 %
    # WHEN the environment is compiled
    template = _service(
        lambda s: s.update(
            desired_count=2, autoscaling={"min_capacity": 2, "max_capacity": 6, "cpu_target_percent": 55}
        )
    )
    template = template["service-api.json"]
    # THEN a target-tracking scaling policy holds average service CPU at 55 %
    assert_has_resource(
        template,
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": 55.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
            },
        },
    )


def test_ec2_service_uses_the_ec2_capacity_provider():
    # GIVEN a cluster with default EC2 capacity and an api service with compute ec2
    # WHEN the environment is compiled
    template = _ec2_service()
    # THEN the ECS service's first capacity provider strategy is the Ec2CapacityProviderName parameter
    props = only(template, "AWS::ECS::Service")["Properties"]
    assert props["CapacityProviderStrategy"][0]["CapacityProvider"] == {"Ref": "Ec2CapacityProviderName"}


def test_ec2_task_definition_requires_ec2():
    # GIVEN a cluster with default EC2 capacity and an api service with compute ec2
    # WHEN the environment is compiled
    template = _ec2_service()
    # THEN the task definition requires EC2 compatibility only
    assert only(template, "AWS::ECS::TaskDefinition")["Properties"]["RequiresCompatibilities"] == ["EC2"]


def test_discovery_registers_an_a_record():
    # GIVEN the base api service
    # WHEN the environment is compiled
    template = _service()["service-api.json"]
    # THEN a Cloud Map service "api" in the cluster namespace publishes A records
    assert_has_resource(
        template,
        "AWS::ServiceDiscovery::Service",
        {"Name": "api", "NamespaceId": {"Ref": "NamespaceId"}, "DnsConfig": {"DnsRecords": [{"Type": "A"}]}},
    )


def test_ecs_service_registers_with_the_discovery_service():
    # GIVEN the base api service
    # WHEN the environment is compiled
    template = _service()["service-api.json"]
    # THEN the ECS service's only registry is the DiscoveryService
    assert only(template, "AWS::ECS::Service")["Properties"]["ServiceRegistries"] == [
        {"RegistryArn": {"Fn::GetAtt": ["DiscoveryService", "Arn"]}}
    ]


def test_the_spec_wins_a_name_clash_with_an_injected_variable_in_either_list():
    # GIVEN a service connected to the cache that defines REDIS_AUTH_TOKEN (injected as a secret) as a plain value
    # and REDIS_HOST (injected as a plain value) as a secret
    def mutate(service):
        service.update(
            connects_to=["cache"],
            environment={"REDIS_AUTH_TOKEN": "none"},
            secrets={"REDIS_HOST": {"ssm": "/acme/dev/redis-host"}},
        )

    # WHEN the environment is compiled
    container = _container(_service(mutate, cache={})["service-api.json"])
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    secrets = _secrets(container)
    # THEN each name appears once, where the spec put it (ECS refuses a name in both lists)
    assert environment["REDIS_AUTH_TOKEN"] == "none" and "REDIS_AUTH_TOKEN" not in secrets
    assert "ssm" in secrets["REDIS_HOST"]["Fn::Sub"] and "REDIS_HOST" not in environment
    # AND the injected variables without a clash are still there (REDIS_PORT 6379)
    assert environment["REDIS_PORT"] == "6379"


def test_text_with_dollar_brace_is_emitted_unchanged_without_a_reference():
    # GIVEN a command and a variable that contain ${...} meant for the shell
    # WHEN the environment is compiled
    template = _service(lambda s: s.update(command=["sh", "-c", "echo ${HOME}"], environment={"A": "${B}-x"}))[
        "service-api.json"
    ]
    container = _container(template)
    # THEN the value is a join that yields the text as written, with no `${` for CloudFormation to read
    assert container["Command"] == ["sh", "-c", {"Fn::Join": ["", ["echo $", "{HOME}"]]}]
    # AND the same holds for the environment variable A = ${B}-x
    assert {"Name": "A", "Value": {"Fn::Join": ["", ["$", "{B}-x"]]}} in container["Environment"]


def test_writable_paths_that_would_share_a_volume_name_get_distinct_ones():
    # GIVEN a read-only root filesystem with writable paths /tmp, /TMP and /var/cache (the first two clash by name)
    # WHEN the environment is compiled
    template = _service(
        lambda s: s.update(readonly_root_filesystem=True, writable_paths=["/tmp", "/TMP", "/var/cache"])
    )
    task = only(template["service-api.json"], "AWS::ECS::TaskDefinition")["Properties"]
    # THEN the task gets three scratch volumes with distinct names, in path order
    assert [v["Name"] for v in task["Volumes"]] == ["scratchTmp1", "scratchTmp2", "scratchVarCache"]
    # AND each path is mounted from its own volume
    assert [(m["ContainerPath"], m["SourceVolume"]) for m in task["ContainerDefinitions"][0]["MountPoints"]] == [
        ("/tmp", "scratchTmp1"),
        ("/TMP", "scratchTmp2"),
        ("/var/cache", "scratchVarCache"),
    ]


def test_circuit_breaker_rolls_back_a_failed_deployment_on_every_compute():
    for kind in ("fargate", "fargate-spot", "ec2"):
        # GIVEN the api service on <kind> compute (with EC2 capacity in the cluster)
        # WHEN the environment is compiled
        template = _service(lambda s: s.update(compute=kind), cluster={"ec2_capacity": {}})["service-api.json"]
        # THEN the deployment circuit breaker is on and rolls a failed deployment back
        breaker = only(template, "AWS::ECS::Service")["Properties"]["DeploymentConfiguration"][
            "DeploymentCircuitBreaker"
        ]
        assert breaker["Enable"] is True, f"{kind}: deployment circuit breaker off"
        assert breaker["Rollback"] is True, f"{kind}: deployment circuit breaker does not roll back"


def test_read_only_root_filesystem_reaches_the_container():
    for writable_paths in ([], ["/tmp"]):
        # GIVEN a service asking for a read-only root filesystem (without, then with, writable scratch paths)
        # WHEN the environment is compiled
        container = _container(
            _service(lambda s: s.update(readonly_root_filesystem=True, writable_paths=writable_paths))[
                "service-api.json"
            ]
        )
        # THEN its container mounts the root filesystem read-only
        assert container["ReadonlyRootFilesystem"] is True, f"writable_paths={writable_paths}: root filesystem writable"
        # AND only the writable paths are mounted writable
        assert [(m["ContainerPath"], m["ReadOnly"]) for m in container.get("MountPoints", [])] == [
            (path, False) for path in writable_paths
        ]


def test_read_only_root_filesystem_is_explicitly_off_when_not_asked_for():
    # GIVEN the base api service, which does not ask for a read-only root filesystem
    # WHEN the environment is compiled THEN the container says so explicitly (false, not absent)
    assert _container(_service()["service-api.json"])["ReadonlyRootFilesystem"] is False


def test_the_service_url_is_the_path_its_pattern_stands_for_and_its_host_when_it_has_one():
    # GIVEN a route on /api/* WHEN compiled THEN the URL output ends in /api/ (not /api, which the rule misses)
    template = _service(lambda s: s.update(load_balancer={"path_patterns": ["/api/*"]}))["service-api.json"]
    assert template["Outputs"]["ServiceUrl"]["Value"]["Fn::Join"][1][1] == "/api/"
    # AND with a host header, the URL is that host's (the load balancer forwards only requests for it)
    template = _service(
        lambda s: s.update(load_balancer={"path_patterns": ["/v1/*"], "host_headers": ["API.acme.example"]})
    )["service-api.json"]
    parts = template["Outputs"]["ServiceUrl"]["Value"]["Fn::Join"][1]
    assert parts[0] == {"Fn::Select": [0, {"Fn::Split": ["://", {"Ref": "BaseUrl"}]}]}  # the base URL's scheme
    assert parts[1] == "://api.acme.example/v1/"
