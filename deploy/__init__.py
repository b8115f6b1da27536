"""Release a built commit to ECS: migrate, then deploy the service, then the scheduled jobs.

Run by the pipeline's Deploy stage (deploy/buildspec.yml) as `python -m deploy`. The images
are already in ECR, tagged with the commit SHA; Terraform owns every other setting of the task
definitions. See release.py for the order of the steps and why.
"""
