"""The public ALB: security group, listeners (HTTP, or HTTP->HTTPS redirect + HTTPS), certificate, DNS alias."""
from __future__ import annotations

from troposphere import GetAtt, Join, Ref, Template, certificatemanager, route53, s3
from troposphere import elasticloadbalancingv2 as elb

from . import iam as policies
from .base import RETAIN, FromRoot, FromStack, NestedStack, new_template, output, parameter, tags
from .spec import EnvironmentSpec


def build(spec: EnvironmentSpec) -> NestedStack:
    settings = spec.load_balancer
    template = new_template(spec, "public application load balancer")
    subnets = parameter(template, "PublicSubnetIds", "Public subnets for the load balancer", "List<AWS::EC2::Subnet::Id>")
    inputs = {"PublicSubnetIds": FromStack("Network", "PublicSubnetIds")}

    security_group = parameter(template, "LoadBalancerSecurityGroupId", "Security group of the ALB",
                               "AWS::EC2::SecurityGroup::Id")
    inputs["LoadBalancerSecurityGroupId"] = FromStack("SecurityGroups", "LoadBalancerSecurityGroupId")
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
    balancer = template.add_resource(elb.LoadBalancer(
        "LoadBalancer", Name=settings.name or f"{spec.prefix}-alb"[:32], Scheme="internet-facing", Type="application",
        Subnets=Ref(subnets), SecurityGroups=[Ref(security_group)],
        LoadBalancerAttributes=[
            elb.LoadBalancerAttributes(Key="idle_timeout.timeout_seconds", Value=str(settings.idle_timeout_seconds)),
            elb.LoadBalancerAttributes(Key="routing.http.drop_invalid_header_fields.enabled", Value="true"),
            elb.LoadBalancerAttributes(Key="deletion_protection.enabled", Value=str(protection).lower()),
            *attributes,
        ],
        **({"DependsOn": depends_on} if depends_on else {}),
        Tags=tags(spec, settings.name or f"{spec.prefix}-alb"),
    ))
    not_found = elb.Action(Type="fixed-response", FixedResponseConfig=elb.FixedResponseConfig(
        StatusCode="404", ContentType="text/plain", MessageBody="Not Found"))
    if settings.tls:
        certificate = _certificate(template, spec, inputs)
        listener = template.add_resource(elb.Listener(
            "HttpsListener", LoadBalancerArn=Ref(balancer), Port=443, Protocol="HTTPS", SslPolicy=settings.ssl_policy,
            Certificates=[elb.Certificate(CertificateArn=certificate)], DefaultActions=[not_found],
        ))
        template.add_resource(elb.Listener(
            "HttpListener", LoadBalancerArn=Ref(balancer), Port=80, Protocol="HTTP",
            DefaultActions=[elb.Action(Type="redirect", RedirectConfig=elb.RedirectConfig(
                Protocol="HTTPS", Port="443", Host="#{host}", Path="/#{path}", Query="#{query}", StatusCode="HTTP_301"))],
        ))
    else:
        listener = template.add_resource(elb.Listener(
            "HttpListener", LoadBalancerArn=Ref(balancer), Port=80, Protocol="HTTP", DefaultActions=[not_found]))

    scheme = "https" if settings.tls else "http"
    host = GetAtt(balancer, "DNSName")
    if settings.dns is not None:
        template.add_resource(route53.RecordSetType(
            "DnsRecord", HostedZoneId=_zone_id(template, spec, inputs), Name=settings.dns.name, Type="A",
            AliasTarget=route53.AliasTarget(DNSName=GetAtt(balancer, "DNSName"),
                                            HostedZoneId=GetAtt(balancer, "CanonicalHostedZoneID"),
                                            EvaluateTargetHealth=True),
        ))
        host = settings.dns.name
    output(template, "LoadBalancerArn", Ref(balancer), "ALB ARN")
    output(template, "LoadBalancerFullName", GetAtt(balancer, "LoadBalancerFullName"), "ALB full name (for metrics)")
    output(template, "LoadBalancerDnsName", GetAtt(balancer, "DNSName"), "ALB DNS name")
    output(template, "ListenerArn", Ref(listener), "Listener that services attach their routing rules to")
    output(template, "BaseUrl", _url(scheme, host), "Public base URL of the environment")
    return NestedStack("LoadBalancer", "loadbalancer.json", template, inputs)


ACCESS_LOG_PREFIX = "alb"


def _access_log_bucket(template: Template, spec: EnvironmentSpec) -> s3.BucketPolicy:
    """ALB access logs: SSE-S3 (the only encryption ALB log delivery supports), TLS-only, retained."""
    bucket = template.add_resource(s3.Bucket(
        "AccessLogBucket", DeletionPolicy=RETAIN, UpdateReplacePolicy="Retain",
        BucketEncryption=s3.BucketEncryption(ServerSideEncryptionConfiguration=[s3.ServerSideEncryptionRule(
            ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(SSEAlgorithm="AES256"))]),
        VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True),
        OwnershipControls=s3.OwnershipControls(Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]),
        LifecycleConfiguration=s3.LifecycleConfiguration(Rules=[s3.LifecycleRule(
            Id="expire-access-logs", Status="Enabled",
            ExpirationInDays=spec.load_balancer.access_log_retention_days,
            NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(NoncurrentDays=7))]),
        Tags=tags(spec, f"{spec.prefix}-alb-access-logs"),
    ))
    return template.add_resource(s3.BucketPolicy(
        "AccessLogBucketPolicy", Bucket=Ref(bucket),
        PolicyDocument=policies.access_log_bucket_policy(bucket, spec.region, ACCESS_LOG_PREFIX),
    ))


def _url(scheme: str, host):
    return Join("", [f"{scheme}://", host])


def _zone_id(template: Template, spec: EnvironmentSpec, inputs: dict):
    """The hosted zone: fixed in the spec, or a deploy-time parameter (`deploy` looks it up by name)."""
    dns = spec.load_balancer.dns
    if dns.zone_id is not None:
        return dns.zone_id
    if "HostedZoneId" not in template.parameters:
        parameter(template, "HostedZoneId", f"Route53 hosted zone ID of {dns.zone_name}", "AWS::Route53::HostedZone::Id")
        inputs["HostedZoneId"] = FromRoot()
    return Ref(template.parameters["HostedZoneId"])


def _certificate(template: Template, spec: EnvironmentSpec, inputs: dict):
    settings = spec.load_balancer
    if settings.certificate_arn is not None:
        return settings.certificate_arn
    certificate = template.add_resource(certificatemanager.Certificate(
        "Certificate", DomainName=settings.dns.name, ValidationMethod="DNS",
        DomainValidationOptions=[certificatemanager.DomainValidationOption(
            DomainName=settings.dns.name, HostedZoneId=_zone_id(template, spec, inputs))],
        Tags=tags(spec, settings.dns.name),
    ))
    return Ref(certificate)
