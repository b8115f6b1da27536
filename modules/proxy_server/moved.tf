# Addresses an environment applied before a refactoring has in its state, moved to the current
# ones, so that its next plan moves the resources instead of replacing them
# (tests/modules/test_proxy_server_moved.py applies the old module, then this one).

# The primary and alternate target groups were two resources before they were one: a replaced
# group would lose its registered tasks, and one a listener still forwards to cannot be deleted
# (DeleteTargetGroup: "You can delete a target group if it is not referenced by any actions",
# https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteTargetGroup.html).
moved {
  from = aws_lb_target_group.this
  to   = aws_lb_target_group.this["primary"]
}

moved {
  from = aws_lb_target_group.alternate[0]
  to   = aws_lb_target_group.this["alternate"]
}

# The production and test rules were two count resources before they were one: a replaced rule
# would lose the weights ECS set on it.
moved {
  from = aws_lb_listener_rule.production[0]
  to   = aws_lb_listener_rule.blue_green["production"]
}

moved {
  from = aws_lb_listener_rule.test[0]
  to   = aws_lb_listener_rule.blue_green["test"]
}
