"""Regenerate templates/ec2_instance_types.json: vCPUs, memory, network interfaces and architecture of every
EC2 instance type, from the DescribeInstanceTypes answers moto ships (moto/ec2/resources/instance_types.json.gz,
collected from AWS by moto's scripts/ec2_get_instance_type_offerings.py). Run after upgrading moto:

    .venv/bin/python tools/instance_types.py
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "templates" / "ec2_instance_types.json"


def main() -> None:
    origin = Path(importlib.util.find_spec("moto").origin).parent / "ec2" / "resources" / "instance_types.json.gz"
    described = json.loads(gzip.decompress(origin.read_bytes()))
    types = {
        name: [
            item["VCpuInfo"]["DefaultVCpus"],
            item["MemoryInfo"]["SizeInMiB"],
            item["NetworkInfo"]["MaximumNetworkInterfaces"],
            sorted(item["ProcessorInfo"]["SupportedArchitectures"]),
        ]
        for name, item in sorted(described.items())
    }
    document = {
        "source": "EC2 DescribeInstanceTypes, as shipped by moto (moto/ec2/resources/instance_types.json.gz); "
        "regenerate with tools/instance_types.py",
        "fields": ["vcpus", "memory_mib", "maximum_network_interfaces", "architectures"],
        "types": types,
    }
    TARGET.write_text(json.dumps(document, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"{TARGET}: {len(types)} instance types")


if __name__ == "__main__":
    main()
