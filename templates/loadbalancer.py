"""The public ALB: security group, listeners (HTTP, or HTTP->HTTPS redirect + HTTPS), certificate, DNS alias.

Also the container options a service's stack adds through here: its ALB target group's health check and
stickiness, and the Network Load Balancer of its `public_ports` (templates/spec_options.py)."""

from __future__ import annotations

from troposphere import GetAtt, Join, Ref, Template, certificatemanager, ecs, route53, s3
from troposphere import elasticloadbalancingv2 as elb

from . import iam as policies
from . import names
from .base import RETAIN, FromRoot, FromStack, NestedStack, new_template, output, parameter, tags
from .spec import EnvironmentSpec
from .spec_common import shortened
from .spec_options import TargetHealthCheckSpec


def needed(spec: EnvironmentSpec) -> bool:
    """Whether the environment has this stack: only with a `load_balancer` in the spec."""
    return spec.load_balancer is not None


def build(spec: EnvironmentSpec) -> NestedStack:
    """The load balancer stack (names.LOAD_BALANCER, names.LOAD_BALANCER_FILE); only when `needed(spec)`.

    Reads spec.load_balancer (.name, .tls, .ssl_policy, .certificate_arn, .dns.name/.zone_id/.zone_name,
    .idle_timeout_seconds, .deletion_protection, .access_logs, .access_log_retention_days),
    spec.production, spec.region, spec.prefix.
    Exports names.LOAD_BALANCER_ARN, names.LOAD_BALANCER_FULL_NAME, names.LOAD_BALANCER_DNS_NAME,
    names.LISTENER_ARN, names.BASE_URL. Wired inputs: names.PUBLIC_SUBNET_IDS from names.NETWORK,
    names.LOAD_BALANCER_SECURITY_GROUP_ID from names.SECURITY, names.HOSTED_ZONE_ID from the root when the
    spec names a zone without its ID.
    """
    settings = spec.load_balancer
    template = new_template(spec, "public application load balancer")
    subnets = parameter(
        template, names.PUBLIC_SUBNET_IDS, "Public subnets for the load balancer", "List<AWS::EC2::Subnet::Id>"
    )
    inputs = {names.PUBLIC_SUBNET_IDS: FromStack(names.NETWORK, names.PUBLIC_SUBNET_IDS)}

    security_group = parameter(
        template, names.LOAD_BALANCER_SECURITY_GROUP_ID, "Security group of the ALB", "AWS::EC2::SecurityGroup::Id"
    )
    inputs[names.LOAD_BALANCER_SECURITY_GROUP_ID] = FromStack(names.SECURITY, names.LOAD_BALANCER_SECURITY_GROUP_ID)
    attributes = []
    depends_on = []
    if settings.access_logs:
        policy = _access_log_bucket(template, spec)
        attributes += [
            elb.LoadBalancerAttributes(Key="access_logs.s3.enabled", Value="true"),
            elb.LoadBalancerAttributes(Key="access_logs.s3.bucket", Value=Ref(template.resources["AccessLogBucket"])),
            elb.LoadBalancerAttributes(Key="access_logs.s3.prefix", Value=ACCESS_LOG_PREFIX),
        ]
        depends_on.append(policy.title)  # ELB checks it may write before it accepts the attribute
    protection = settings.deletion_protection if settings.deletion_protection is not None else spec.production
    balancer = template.add_resource(
        elb.LoadBalancer(
            "LoadBalancer",
            Name=spec.load_balancer_name,
            Scheme="internet-facing",
            Type="application",
            Subnets=Ref(subnets),
            SecurityGroups=[Ref(security_group)],
            LoadBalancerAttributes=[
                elb.LoadBalancerAttributes(
                    Key="idle_timeout.timeout_seconds", Value=str(settings.idle_timeout_seconds)
                ),
                elb.LoadBalancerAttributes(Key="routing.http.drop_invalid_header_fields.enabled", Value="true"),
                elb.LoadBalancerAttributes(Key="deletion_protection.enabled", Value=str(protection).lower()),
                *attributes,
            ],
            **({"DependsOn": depends_on} if depends_on else {}),
            Tags=tags(spec, spec.load_balancer_name),
        )
    )
    not_found = elb.Action(
        Type="fixed-response",
        FixedResponseConfig=elb.FixedResponseConfig(
            StatusCode="404", ContentType="text/plain", MessageBody="Not Found"
        ),
    )
    if settings.tls:
        certificate = _certificate(template, spec, inputs)
        listener = template.add_resource(
            elb.Listener(
                "HttpsListener",
                LoadBalancerArn=Ref(balancer),
                Port=443,
                Protocol="HTTPS",
                SslPolicy=settings.ssl_policy,
                Certificates=[elb.Certificate(CertificateArn=certificate)],
                DefaultActions=[not_found],
            )
        )
        template.add_resource(
            elb.Listener(
                "HttpListener",
                LoadBalancerArn=Ref(balancer),
                Port=80,
                Protocol="HTTP",
                DefaultActions=[
                    elb.Action(
                        Type="redirect",
                        RedirectConfig=elb.RedirectConfig(
                            Protocol="HTTPS",
                            Port="443",
                            Host="#{host}",
                            Path="/#{path}",
                            Query="#{query}",
                            StatusCode="HTTP_301",
                        ),
                    )
                ],
            )
        )
    else:
        listener = template.add_resource(
            elb.Listener(
                "HttpListener", LoadBalancerArn=Ref(balancer), Port=80, Protocol="HTTP", DefaultActions=[not_found]
            )
        )

    scheme = "https" if settings.tls else "http"
    host = GetAtt(balancer, "DNSName")
    if settings.dns is not None:
        # the environment's name, then one alias record per route host in the zone
        records = {settings.dns.name: "DnsRecord", **names.host_records(spec.record_hosts)}
        for name, logical_id in records.items():
            template.add_resource(
                route53.RecordSetType(
                    logical_id,
                    HostedZoneId=_zone_id(template, spec, inputs),
                    Name=name,
                    Type="A",
                    AliasTarget=route53.AliasTarget(
                        DNSName=GetAtt(balancer, "DNSName"),
                        HostedZoneId=GetAtt(balancer, "CanonicalHostedZoneID"),
                        EvaluateTargetHealth=True,
                    ),
                )
            )
        host = settings.dns.name
    output(template, names.LOAD_BALANCER_ARN, Ref(balancer), "ALB ARN")
    output(
        template, names.LOAD_BALANCER_FULL_NAME, GetAtt(balancer, "LoadBalancerFullName"), "ALB full name (for metrics)"
    )
    output(template, names.LOAD_BALANCER_DNS_NAME, GetAtt(balancer, "DNSName"), "ALB DNS name")
    output(template, names.LISTENER_ARN, Ref(listener), "Listener that services attach their routing rules to")
    output(template, names.BASE_URL, _url(scheme, host), "Public base URL of the environment")
    return NestedStack(names.LOAD_BALANCER, names.LOAD_BALANCER_FILE, template, inputs)


ACCESS_LOG_PREFIX = "alb"


def _access_log_bucket(template: Template, spec: EnvironmentSpec) -> s3.BucketPolicy:
    """ALB access logs: SSE-S3 (the only encryption ALB log delivery supports), TLS-only, retained."""
    bucket = template.add_resource(
        s3.Bucket(
            "AccessLogBucket",
            DeletionPolicy=RETAIN,
            UpdateReplacePolicy="Retain",
            BucketEncryption=s3.BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    s3.ServerSideEncryptionRule(
                        ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
                    )
                ]
            ),
            VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
            PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
                BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True
            ),
            OwnershipControls=s3.OwnershipControls(
                Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
            ),
            LifecycleConfiguration=s3.LifecycleConfiguration(
                Rules=[
                    s3.LifecycleRule(
                        Id="expire-access-logs",
                        Status="Enabled",
                        ExpirationInDays=spec.load_balancer.access_log_retention_days,
                        NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(NoncurrentDays=7),
                    )
                ]
            ),
            Tags=tags(spec, f"{spec.prefix}-alb-access-logs"),
        )
    )
    return template.add_resource(
        s3.BucketPolicy(
            "AccessLogBucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument=policies.access_log_bucket_policy(bucket, spec.region, ACCESS_LOG_PREFIX),
        )
    )


def _url(scheme: str, host):
    return Join("", [f"{scheme}://", host])


def _zone_id(template: Template, spec: EnvironmentSpec, inputs: dict):
    """The hosted zone: fixed in the spec, or a deploy-time parameter (`deploy` looks it up by name)."""
    dns = spec.load_balancer.dns
    if dns.zone_id is not None:
        return dns.zone_id
    if names.HOSTED_ZONE_ID not in template.parameters:
        parameter(
            template, names.HOSTED_ZONE_ID, f"Route53 hosted zone ID of {dns.zone_name}", "AWS::Route53::HostedZone::Id"
        )
        inputs[names.HOSTED_ZONE_ID] = FromRoot()
    return Ref(template.parameters[names.HOSTED_ZONE_ID])


def _certificate(template: Template, spec: EnvironmentSpec, inputs: dict):
    settings = spec.load_balancer
    if settings.certificate_arn is not None:
        return settings.certificate_arn
    alternatives = spec.dns_hosts  # the route hosts, so that every host a rule matches is served with a valid name
    certificate = template.add_resource(
        certificatemanager.Certificate(
            "Certificate",
            DomainName=settings.dns.name,
            **({"SubjectAlternativeNames": alternatives} if alternatives else {}),
            ValidationMethod="DNS",
            DomainValidationOptions=[
                certificatemanager.DomainValidationOption(
                    DomainName=name, HostedZoneId=_zone_id(template, spec, inputs)
                )
                for name in [settings.dns.name, *alternatives]
            ],
            Tags=tags(spec, settings.dns.name),
        )
    )
    return Ref(certificate)


# ---- container options (templates/spec_options.py): a route's health check and stickiness, a service's NLB


def target_group_options(route) -> dict:
    """The health check and attributes of a service's ALB target group, from its route (a LoadBalancerRouteSpec):
    the spec's `health_check` (ELB's timeout unless given) and, with `stickiness`, a load balancer cookie."""
    check = route.health_check or TargetHealthCheckSpec()
    attributes = [
        elb.TargetGroupAttribute(
            Key="deregistration_delay.timeout_seconds", Value=str(route.deregistration_delay_seconds)
        )
    ]
    if route.stickiness is not None:
        attributes += [
            elb.TargetGroupAttribute(Key="stickiness.enabled", Value="true"),
            elb.TargetGroupAttribute(Key="stickiness.type", Value=route.stickiness.type),
            elb.TargetGroupAttribute(
                Key="stickiness.lb_cookie.duration_seconds", Value=str(route.stickiness.duration_seconds)
            ),
        ]
    return {
        "HealthCheckIntervalSeconds": check.interval_seconds,
        **({"HealthCheckTimeoutSeconds": check.timeout_seconds} if check.timeout_seconds is not None else {}),
        "HealthyThresholdCount": check.healthy_threshold,
        "UnhealthyThresholdCount": check.unhealthy_threshold,
        "Matcher": elb.Matcher(HttpCode=check.matcher),
        "TargetGroupAttributes": attributes,
    }


def network_load_balancer_name(spec: EnvironmentSpec, name: str) -> str:
    """`<system>-<env>-<service>-nlb` cut to ELB's 32 characters (never `internal-...`, which ELB reserves)."""
    full = f"{spec.prefix}-{name}-nlb"
    return shortened(f"nlb-{spec.prefix}-{name}" if full.startswith("internal-") else full, 32)


def add_network_load_balancer(template: Template, spec: EnvironmentSpec, name: str, take) -> tuple[list, list]:
    """An internet-facing Network Load Balancer for service `name`'s `public_ports`: a listener and an IP target
    group per port (TCP or UDP; a UDP target's health is checked over TCP on the service's `port`), behind the
    security group names.nlb_group(name) of the security stack. `take(name, description, source, type)` adds a
    wired parameter. Returns the ECS service's load balancer entries and the listeners it must wait for."""
    service = spec.services[name]
    subnets = take(
        names.PUBLIC_SUBNET_IDS,
        "Public subnets for the network load balancer",
        FromStack(names.NETWORK, names.PUBLIC_SUBNET_IDS),
        "List<AWS::EC2::Subnet::Id>",
    )
    group_output = names.security_group_id(names.nlb_group(name))
    group = take(
        group_output,
        "Security group of the network load balancer",
        FromStack(names.SECURITY, group_output),
        "AWS::EC2::SecurityGroup::Id",
    )
    vpc_id = take(names.VPC_ID, "VPC of the environment", FromStack(names.NETWORK, names.VPC_ID), "AWS::EC2::VPC::Id")
    balancer = template.add_resource(
        elb.LoadBalancer(
            "NetworkLoadBalancer",
            Name=network_load_balancer_name(spec, name),
            Scheme="internet-facing",
            Type="network",
            Subnets=Ref(subnets),
            SecurityGroups=[Ref(group)],
            LoadBalancerAttributes=[
                elb.LoadBalancerAttributes(Key="deletion_protection.enabled", Value=str(spec.production).lower()),
                elb.LoadBalancerAttributes(Key="load_balancing.cross_zone.enabled", Value="true"),
            ],
            Tags=tags(spec, network_load_balancer_name(spec, name)),
        )
    )
    entries, listeners = [], []
    for item in sorted(service.public_ports, key=lambda item: item.port):
        suffix = f"{item.protocol.title()}{item.port}"
        target_group = template.add_resource(
            elb.TargetGroup(
                f"PublicTargetGroup{suffix}",
                TargetType="ip",
                Protocol=item.protocol.upper(),
                Port=item.port,
                VpcId=Ref(vpc_id),
                HealthCheckEnabled=True,
                HealthCheckProtocol="TCP",
                HealthCheckPort="traffic-port" if item.protocol == "tcp" else str(service.port),
                TargetGroupAttributes=[
                    elb.TargetGroupAttribute(Key="deregistration_delay.timeout_seconds", Value="30")
                ],
                Tags=tags(spec, f"{spec.prefix}-{name}-{item.protocol}-{item.port}"),
            )
        )
        listener = template.add_resource(
            elb.Listener(
                f"PublicListener{suffix}",
                LoadBalancerArn=Ref(balancer),
                Port=item.port,
                Protocol=item.protocol.upper(),
                DefaultActions=[elb.Action(Type="forward", TargetGroupArn=Ref(target_group))],
            )
        )
        entries.append(ecs.LoadBalancer(ContainerName=name, ContainerPort=item.port, TargetGroupArn=Ref(target_group)))
        listeners.append(listener.title)
    output(
        template,
        names.NETWORK_LOAD_BALANCER_DNS_NAME,
        GetAtt(balancer, "DNSName"),
        f"DNS name of {name}'s network load balancer (public_ports)",
    )
    return entries, listeners
