"""Every name that crosses a file, in one place (as copilot-cli keeps `name.go`): nested stack logical IDs
and file names, the outputs another stack (or the tool after the build) reads, root and deploy-time
parameters, and the names derived from a service or a group.

A wiring pair is one constant: the producer declares `output(template, names.VPC_ID, ...)` and the
consumer wires `FromStack(names.NETWORK, names.VPC_ID)`. A consumer's parameter carries the name of the
output it is fed from, so one constant names both ends.

Every name here is emitted. Changing one renames a logical ID (CloudFormation replaces the stack and
everything in it), an output or a parameter (the wiring, CI's overrides and the deployed parameters
no longer line up): add names, never rename them.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from .spec_common import pascal

if TYPE_CHECKING:  # only in annotations: reading a manifest (lint, status) needs the names, not the spec
    from .spec import EnvironmentSpec

# ------------------------------------------------------------------------------------------ files

ROOT = "Root"  # the top-level stacks, by the names their records carry
BOOTSTRAP = "Bootstrap"
ROOT_FILE = "root.json"
BOOTSTRAP_FILE = "bootstrap.json"


def bootstrap_stack_name(spec: EnvironmentSpec) -> str:
    """The bootstrap stack's CloudFormation stack name: `<system>-<env>-bootstrap`."""
    return f"{spec.prefix}-bootstrap"


# ------------------------------------------------------------------------------------------ network

NETWORK = "Network"
NETWORK_FILE = "network.json"
VPC_ID = "VpcId"
VPC_CIDR = "VpcCidr"
PUBLIC_SUBNET_IDS = "PublicSubnetIds"
PRIVATE_SUBNET_IDS = "PrivateSubnetIds"
ENVIRONMENT_KEY_ARN = "EnvironmentKeyArn"  # the environment KMS key lives in the network stack (keys.py)
AVAILABILITY_ZONES = "AvailabilityZones"  # parameter of the network stack only, left at its default

# ------------------------------------------------------------------------------------------ security groups

SECURITY = "SecurityGroups"
SECURITY_FILE = "security.json"
LOAD_BALANCER_GROUP = "LoadBalancer"
DATABASE_GROUP = "Database"
CACHE_GROUP = "Cache"
ENDPOINTS_GROUP = "Endpoints"  # the VPC interface endpoints' one group (templates/endpoints.py)


def service_group(name: str) -> str:
    """The security group key of a service (`Service<Pascal>`), the stem of its group's resource and output."""
    return f"Service{pascal(name)}"


def job_group(name: str) -> str:
    """The security group key of a job (`Job<Pascal>`), the stem of its group's resource and output."""
    return f"Job{pascal(name)}"


def nlb_group(name: str) -> str:
    """The security group key of a service's network load balancer (`Nlb<Pascal>`; never `Service…`, which a
    service named `<name>-nlb` would own)."""
    return f"Nlb{pascal(name)}"


def security_group_id(group: str) -> str:
    """The output (and consumer parameter) holding the ID of the security group `group`."""
    return f"{group}SecurityGroupId"


LOAD_BALANCER_SECURITY_GROUP_ID = security_group_id(LOAD_BALANCER_GROUP)
DATABASE_SECURITY_GROUP_ID = security_group_id(DATABASE_GROUP)
CACHE_SECURITY_GROUP_ID = security_group_id(CACHE_GROUP)
ENDPOINTS_SECURITY_GROUP_ID = security_group_id(ENDPOINTS_GROUP)

# ------------------------------------------------------------------------------------------ cluster

CLUSTER = "Cluster"
CLUSTER_FILE = "cluster.json"
CLUSTER_NAME = "ClusterName"
CLUSTER_ARN = "ClusterArn"
NAMESPACE_ID = "NamespaceId"
NAMESPACE_NAME = "NamespaceName"
EC2_CAPACITY_PROVIDER_NAME = "Ec2CapacityProviderName"
ECS_AMI_ID = "EcsAmiId"  # parameter of the cluster stack only, left at its default (an SSM parameter name)

# ------------------------------------------------------------------------------------------ load balancer

LOAD_BALANCER = "LoadBalancer"
LOAD_BALANCER_FILE = "loadbalancer.json"
LOAD_BALANCER_ARN = "LoadBalancerArn"
LOAD_BALANCER_FULL_NAME = "LoadBalancerFullName"
LOAD_BALANCER_DNS_NAME = "LoadBalancerDnsName"
LISTENER_ARN = "ListenerArn"
BASE_URL = "BaseUrl"


def host_records(hosts: list[str]) -> dict[str, str]:
    """The alias record of each route host in the zone: `DnsRecord` + its labels in PascalCase, `*` as `Wildcard`
    (`*.shop.example.com` -> `DnsRecordWildcardShopExampleCom`); two hosts that read the same that way
    (`a-b.example.com`, `a.b.example.com`) both get a hash of the host. `DnsRecord` alone is the environment's."""
    stems = {host: "DnsRecord" + pascal(host.replace("*", "wildcard-").replace("?", "any-")) for host in hosts}
    taken = [stem for stem in stems.values()]
    return {
        host: stem if taken.count(stem) == 1 else f"{stem}{zlib.crc32(host.encode('utf-8')):08X}"
        for host, stem in stems.items()
    }


# ------------------------------------------------------------------------------------------ data

DATA = "Data"
DATA_FILE = "data.json"
DATABASE_ENDPOINT = "DatabaseEndpoint"
DATABASE_PORT = "DatabasePort"
DATABASE_NAME = "DatabaseName"
DATABASE_SECRET_ARN = "DatabaseSecretArn"
CACHE_ENDPOINT = "CacheEndpoint"
CACHE_PORT = "CachePort"
CACHE_AUTH_SECRET_ARN = "CacheAuthSecretArn"
DATABASE_ENABLED = "DatabaseEnabled"  # the condition on ENABLE_DATABASE, identical in every stack that has it

# ------------------------------------------------------------------------------------------ services

SERVICE_URL = "ServiceUrl"
NETWORK_LOAD_BALANCER_DNS_NAME = "NetworkLoadBalancerDnsName"  # a service with public_ports (its own NLB)
DISCOVERY_NAME = "DiscoveryName"
SERVICE_NAME = "ServiceName"
SERVICE_ARN = "ServiceArn"
TASK_DEFINITION_ARN = "TaskDefinitionArn"
LOG_GROUP_NAME = "LogGroupName"
TASK_ROLE_ARN = "TaskRoleArn"


def service_stack(name: str) -> str:
    """The logical ID of a service's nested stack: `Service<Pascal>` (`api-gw` -> `ServiceApiGw`)."""
    return f"Service{pascal(name)}"


def service_file(name: str) -> str:
    """The file of a service's nested stack: `service-<name>.json`."""
    return f"service-{name}.json"


def image_parameter(name: str) -> str:
    """A service's deploy-time image tag parameter: `<Pascal>ImageTag`."""
    return f"{pascal(name)}ImageTag"


def count_parameter(name: str) -> str:
    """A service's deploy-time desired task count parameter: `<Pascal>DesiredCount`."""
    return f"{pascal(name)}DesiredCount"


# ------------------------------------------------------------------------------------------ jobs

SCHEDULE_NAME = "ScheduleName"  # a scheduled job's schedule (and its dead-letter queue's URL)
DEAD_LETTER_QUEUE_URL = "DeadLetterQueueUrl"
JOB_SUBNET_IDS = "SubnetIds"  # a job stack re-exports what `build.py run` passes to RunTask
JOB_SECURITY_GROUP_ID = "SecurityGroupId"
JOB_CAPACITY_PROVIDER = "CapacityProvider"
JOB_CONTAINER_NAME = "ContainerName"


def job_stack(name: str) -> str:
    """The logical ID of a job's nested stack: `Job<Pascal>` (`nightly-report` -> `JobNightlyReport`)."""
    return f"Job{pascal(name)}"


def job_file(name: str) -> str:
    """The file of a job's nested stack: `job-<name>.json`."""
    return f"job-{name}.json"


# ------------------------------------------------------------------------------------------ service groups

GROUPS = 16  # fixed, so that a service's group depends on its name only
GROUP_PREFIX = "Services"  # never "Service<Upper>…": service stacks are `Service` + PascalCase name


def group_id(name: str) -> str:
    """The group stack of a service: a hash of its name only, so other services never move it."""
    return f"{GROUP_PREFIX}{zlib.crc32(name.encode('utf-8')) % GROUPS + 1:02d}"


def group_file(logical_id: str) -> str:
    """The file of a group stack: `Services07` -> `services-07.json`."""
    return f"services-{logical_id[len(GROUP_PREFIX):]}.json"


def group_image_tags(logical_id: str) -> str:
    """A group's root parameter listing its services' image tags: `Services07ImageTags`."""
    return f"{logical_id}ImageTags"


def group_desired_counts(logical_id: str) -> str:
    """A group's root parameter listing its services' desired counts: `Services07DesiredCounts`."""
    return f"{logical_id}DesiredCounts"


# ------------------------------------------------------------------------------------------ split stacks


def part_id(logical_id: str, tier: int, bucket: int) -> str:
    """The logical ID of one part of a split stack: `<Stack>Part03`, `<Stack>Part03Tier1`."""
    return f"{logical_id}Part{bucket + 1:02d}" + (f"Tier{tier}" if tier else "")


def part_file(file_name: str, tier: int, bucket: int) -> str:
    """The file of one part of a split stack: `security-part-03.json`, `security-part-03-tier-1.json`."""
    stem = file_name.rsplit(".", 1)[0]
    return f"{stem}-part-{bucket + 1:02d}" + (f"-tier-{tier}" if tier else "") + ".json"


def part_output(resource: str) -> str:
    """The output by which a part hands a resource to a later part (whose parameter is `resource`)."""
    return f"{resource}Ref"


# ------------------------------------------------------------------------------------------ root

ENABLE_DATABASE = "EnableDatabase"  # deploy-time switch of the database (a parameter of every stack using it)
HOSTED_ZONE_ID = "HostedZoneId"  # deploy-time, when the spec names a zone but not its ID (deploy looks it up)
BOOTSTRAP_STACK_NAME = "BootstrapStackName"  # root output


def group_output(stack_id: str, output: str) -> str:
    """A group's output forwarding output `output` of its member `stack_id` to a stack outside the group (an addon
    taking a grouped service's task role): `ServiceApiTaskRoleName`."""
    return f"{stack_id}{output}"


def service_url_output(stack_id: str) -> str:
    """The root's (or a group's) output forwarding a service stack's SERVICE_URL: `<ServiceStack>Url`."""
    return f"{stack_id}Url"


# ------------------------------------------------------------------------------------------ bootstrap

ARTIFACTS_BUCKET_NAME = "ArtifactsBucketName"


def repository_uri_output(key: str) -> str:
    """The bootstrap output with the URI of the ECR repository `key`: `<Pascal>RepositoryUri`."""
    return f"{pascal(key)}RepositoryUri"


def repository_name_output(key: str) -> str:
    """The bootstrap output with the name of the ECR repository `key`: `<Pascal>RepositoryName`."""
    return f"{pascal(key)}RepositoryName"


# ------------------------------------------------------------------------------------------ storage

STORAGE = "Storage"
STORAGE_FILE = "storage.json"
# the spec section -> what its resources' logical IDs end with (`uploads` bucket -> `UploadsBucket`)
STORAGE_KINDS = {"buckets": "Bucket", "queues": "Queue", "topics": "Topic", "tables": "Table"}


def storage_resource(kind: str, name: str) -> str:
    """The logical ID of a storage resource: `<Pascal><Kind>` (`user-uploads` bucket -> `UserUploadsBucket`)."""
    return f"{pascal(name)}{STORAGE_KINDS[kind]}"


def storage_output(kind: str, name: str, what: str) -> str:
    """A storage stack output (and the parameter of a service granted the resource): the resource's logical ID and
    `what` (`Name`, `Arn`, `Url`): `UploadsBucketName`, `JobsQueueUrl`, `EventsTopicArn`, `SessionsTableArn`."""
    return storage_resource(kind, name) + what


# ------------------------------------------------------------------------------------------ addons

TASK_ROLE_NAME = "TaskRoleName"  # a service's or job's output, only when one of its addons takes it
ADDON_PREFIX = "Addon"


def addon_stack(owner: str | None, name: str) -> str:
    """The logical ID of an addon's nested stack: `Addon<Name>` for the environment's, `Addon<Owner><Name>` for a
    service's or job's (`api`'s `orders-table` -> `AddonApiOrdersTable`)."""
    return ADDON_PREFIX + pascal(owner or "") + pascal(name)


def addon_file(owner: str | None, name: str) -> str:
    """The file of an addon's nested stack: `addon-<name>.json`, or `addon-<owner>-<name>.json`."""
    return f"addon-{owner}-{name}.json" if owner else f"addon-{name}.json"


def addon_parameter(stack_id: str, output: str) -> str:
    """The parameter of a service or job stack fed from output `output` of its addon `stack_id`."""
    return f"{stack_id}{output}"


PACK_SEPARATOR = ","


def pack(values: dict[str, str]) -> str:
    """{"api": "v1", "worker": "v2"} -> "api=v1,worker=v2" (the value of a group's list parameter)."""
    return PACK_SEPARATOR.join(f"{name}={value}" for name, value in values.items())


def unpack(text: str) -> dict[str, str]:
    """The inverse of `pack`; entries without a `=` are ignored."""
    found = {}
    for item in (text or "").split(PACK_SEPARATOR):
        name, sep, value = item.strip().partition("=")
        if sep:
            found[name] = value
    return found


# ------------------------------------------------------------------------------------------ alarms

ALARM_TOPIC_ARN = "AlarmTopicArn"  # the environment's alarm topic lives in the network stack, beside its key


def alarm_topic_name(spec: EnvironmentSpec) -> str:
    """The SNS topic every alarm of the environment notifies: `<system>-<env>-alarms`."""
    return f"{spec.prefix}-alarms"


def alarm_name(spec: EnvironmentSpec, kind: str, what: str, name: str | None = None) -> str:
    """A CloudWatch alarm's name: `<system>-<env>-<kind>[-<name>]-<what>` (`shop-prod-service-api-cpu-high`,
    `shop-prod-cache-cpu-high`): the kind keeps a service named `cache` from taking the Redis alarm's name.
    Services name their deployment alarms by it, so a service needs no reference to its alarms (nor they to it)."""
    return "-".join([spec.prefix, kind, *([name] if name else []), what])


def alarm_name_pattern(spec: EnvironmentSpec) -> str:
    """The names of every alarm of the environment (the key policy's aws:SourceArn scope): `<system>-<env>-*`."""
    return f"{spec.prefix}-*"
