"""The AWS Regions an environment may name, in the partitions the renderer writes ARNs for.

Source: the AWS documentation's list of Regions ("AWS Region billing codes",
docs.aws.amazon.com/global-infrastructure/latest/regions/aws-region-billing-codes.html),
checked against the regions of botocore 1.44.8's endpoints.json (aws, aws-cn and aws-us-gov
partitions), last on 2026-12-03: it includes the Regions opened in 2025, ap-east-2 (Taipei),
ap-southeast-6 (New Zealand), ap-southeast-7 (Thailand) and mx-central-1 (Mexico). A Region AWS
opens later is added here, and the date above updated.
Not listed: the European Sovereign Cloud (eusc-de-east-1) and the isolated partitions, whose
ARNs use partitions config.partition() does not know.
"""

from __future__ import annotations

REGIONS = frozenset({
    # aws
    "af-south-1",
    "ap-east-1", "ap-east-2",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-south-2",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-6", "ap-southeast-7",
    "ca-central-1", "ca-west-1",
    "eu-central-1", "eu-central-2",
    "eu-north-1",
    "eu-south-1", "eu-south-2",
    "eu-west-1", "eu-west-2", "eu-west-3",
    "il-central-1",
    "me-central-1", "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    # aws-cn
    "cn-north-1", "cn-northwest-1",
    # aws-us-gov
    "us-gov-east-1", "us-gov-west-1",
})
