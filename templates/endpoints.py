"""VPC endpoints (`network.endpoints`): private paths from the private subnets to AWS APIs.

Gateway endpoints (s3, dynamodb) are entries in the private route tables, added to the network stack; they
cost nothing. Interface endpoints are network interfaces in every private subnet with private DNS, so the
SDKs and the ECS agent reach `<service>.<region>.amazonaws.com` inside the VPC without any configuration;
they live in the security groups stack beside their one security group (templates/security.py), which
admits HTTPS only from the services' groups (and the EC2 container instances'). Every service stack waits
for the security groups stack, so no task starts before the endpoints it pulls and logs through exist.

With `nat: none` the private subnets have no other way out, so the endpoints the spec needs are added to the
listed ones (`needed_endpoints`, which later parts of the spec, such as granted buckets or queues, extend).
Default (full access) endpoint policies: access stays governed by IAM and resource policies. A gateway
endpoint carries every request to its service from the private subnets (its prefix-list route is more specific
than a NAT default route), so a narrower S3 policy (say the environment's buckets and ECR's layer bucket
`prod-<region>-starport-layer-bucket`) would also cut off every bucket the compiler does not know: the Amazon
Linux package repositories the ECS-optimized AMI updates from, buckets an application reads.
"""

from __future__ import annotations

from troposphere import Ref, Sub, Template, ec2

from .base import tags
from .spec import GATEWAY_ENDPOINTS, INTERFACE_ENDPOINTS, EnvironmentSpec, pascal

ECR = ("ecr.api", "ecr.dkr", "s3")  # ECR keeps image layers in S3: a pull needs the S3 gateway endpoint too
EC2_CAPACITY = ("ecs", "ecs-agent", "ecs-telemetry")  # what the ECS agent on a container instance talks to
GRANTED = {"buckets": "s3", "tables": "dynamodb", "queues": "sqs", "topics": "sns"}  # a grant's API endpoint


def needed_endpoints(spec: EnvironmentSpec) -> set[str]:
    """The endpoints the spec's tasks (and container instances) need to start and run without NAT.

    * every container logs with the awslogs driver: logs;
    * an image from ECR: ecr.api, ecr.dkr and the s3 gateway (image layers are S3 objects);
    * a secret from SSM Parameter Store: ssm; from Secrets Manager, or the injected Redis AUTH token or
      database credentials (both Secrets Manager secrets): secretsmanager. ECS reads them with the execution
      role; SSM and Secrets Manager call KMS for a SecureString or secret themselves (kms:ViaService), so no
      kms endpoint is needed for that;
    * EC2 capacity: ecs, ecs-agent, ecs-telemetry, which the ECS agent registers and reports through;
    * a granted bucket: s3, table: dynamodb (gateways), queue: sqs, topic: sns. Their KMS encryption is
      done by those services themselves (kms:ViaService), so again no kms endpoint;
    * sidecars count like the main container (their images and secrets); a service with ECS Exec on
      (`exec: true`): ssmmessages, which the SSM agent in the task opens its session channels through.
    """
    needed = {"logs"}
    tasks = [*spec.services.values(), *spec.jobs.values()]
    for task in tasks:
        for target in task.grants:
            needed.update(endpoint for section, endpoint in GRANTED.items() if target in getattr(spec, section))
    if any(image.in_ecr(spec.region) for service in tasks for image in _images(service)):
        needed.update(ECR)
    for service in tasks:
        secrets = _secrets(service)
        if any(secret.ssm for secret in secrets):
            needed.add("ssm")
        if any(secret.secrets_manager for secret in secrets) or ({"cache", "database"} & set(service.connects_to)):
            needed.add("secretsmanager")
    if any(service.exec for service in spec.services.values()):
        needed.add("ssmmessages")
    if spec.cluster.ec2_capacity is not None:
        needed.update(EC2_CAPACITY)
    return needed


def _images(task) -> list:
    """The images of a task: its main container's, then its sidecars'."""
    return [task.image, *(sidecar.image for sidecar in task.sidecars)]


def _secrets(task) -> list:
    """The secret references of a task's containers, the main one's and its sidecars'."""
    return [*task.secrets.values(), *(ref for sidecar in task.sidecars for ref in sidecar.secrets.values())]


def chosen(spec: EnvironmentSpec) -> list[str]:
    """The endpoints the templates emit, sorted: the listed ones, and with nat: none the needed ones too."""
    names = set(spec.network.endpoints)
    if spec.network.nat == "none":
        names |= needed_endpoints(spec)
    return sorted(names)


def gateway(spec: EnvironmentSpec) -> list[str]:
    return [name for name in chosen(spec) if name in GATEWAY_ENDPOINTS]


def interface(spec: EnvironmentSpec) -> list[str]:
    return [name for name in chosen(spec) if name in INTERFACE_ENDPOINTS]


def logical_id(name: str) -> str:
    """`ecr.api` -> `EndpointEcrApi`, `s3` -> `EndpointS3`."""
    return "Endpoint" + pascal(name.replace(".", "-"))


def service_name(name: str) -> Sub:
    return Sub("com.amazonaws.${AWS::Region}." + name)


def add_gateway(template: Template, spec: EnvironmentSpec, vpc, route_tables: list) -> None:
    """The gateway endpoints, on every private route table (the public subnets hold only the load balancer)."""
    for name in gateway(spec):
        template.add_resource(
            ec2.VPCEndpoint(
                logical_id(name),
                VpcId=Ref(vpc),
                ServiceName=service_name(name),
                VpcEndpointType="Gateway",
                RouteTableIds=[Ref(table) for table in route_tables],
                Tags=tags(spec, f"{spec.prefix}-{name}"),
            )
        )


def add_interface(template: Template, spec: EnvironmentSpec, vpc_id, subnets, group) -> None:
    """The interface endpoints, one network interface per private subnet, private DNS on, behind `group`."""
    for name in interface(spec):
        template.add_resource(
            ec2.VPCEndpoint(
                logical_id(name),
                VpcId=Ref(vpc_id),
                ServiceName=service_name(name),
                VpcEndpointType="Interface",
                PrivateDnsEnabled=True,
                SubnetIds=Ref(subnets),
                SecurityGroupIds=[Ref(group)],
                Tags=tags(spec, f"{spec.prefix}-{name}"),
            )
        )
