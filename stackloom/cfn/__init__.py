"""CloudFormation JSON, read once: every part of the tool that reads a template goes through this package.

* `model`: resources, properties, nested-stack children and their paths, references (Ref/GetAtt/Sub);
* `schemas`: createOnly properties from cfn-lint's resource provider schemas (nested paths, per region);
* `evaluate`: conditions and intrinsic functions with parameter values;
* `parameters`: deploy-time parameter values checked as CloudFormation checks them.
"""
