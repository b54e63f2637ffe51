"""stackforge: compile a per-environment platform spec into nested CloudFormation templates.

The package is named ``templates`` because it *is* the set of troposphere template modules
(network, cluster, load balancer, data, services, IAM); ``build.py`` at the top level is the CLI.
"""
