"""Operating a deployed environment: `status`, `logs`, `drift`, and the report of a failed rollout.

Every name these read (stack names, the cluster, services, log groups, target groups) comes from the built
manifest (stackloom/manifest.py) and from the deployed stacks' resources and outputs, never from a guess:

* `resources`: the manifest of a target, the deployed stack tree, and where each service and job lives;
* `status`: stacks, services (counts, task definition, image, rollout, events), target health, outputs;
* `logs`: CloudWatch Logs of a service or job (FilterLogEvents paginator, --since, --filter, --follow);
* `drift`: CloudFormation drift detection over the root and every nested stack (a botocore waiter);
* `failure`: why a rollout failed (stopped tasks, service events, target health, last log lines).
"""
