"""Security and behaviour of modules/proxy_server (ALB, ACM, Route 53), read from its HCL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tfhelpers import (
    MODULES,
    blocks,
    data_sources,
    literal,
    locals_of,
    module_fixture,
    moves_of,
    outputs_of,
    resources,
    validation_regex,
    variables_of,
)

MODULE = "proxy_server"


parsed = module_fixture(MODULE)


@pytest.fixture(scope="module")
def res(parsed) -> dict[str, dict[str, Any]]:
    return resources(parsed)


def one_block(body: dict[str, Any], name: str) -> dict[str, Any]:
    found = blocks(body, name)
    assert len(found) == 1, f"expected one {name} block, found {len(found)}"
    return found[0]


def dynamic_content(body: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    """(for_each, content) of the one `dynamic "<name>"` block inside a body."""
    for dyn in blocks(body, "dynamic"):
        if name in dyn:
            return dyn[name]["for_each"], one_block(dyn[name], "content")
    raise AssertionError(f'no dynamic "{name}" block')


# ---- TLS ----------------------------------------------------------------------------------


def test_https_listener_uses_the_tls13_policy_input(res):
    https = res["aws_lb_listener.https"]
    assert https["protocol"] == "HTTPS"
    assert https["port"] == 443
    assert https["ssl_policy"] == "${var.ssl_policy}"
    assert "aws_acm_certificate_validation.this" in https["certificate_arn"]


def test_ssl_policy_default_and_validation_allow_only_tls13(parsed):
    ssl_policy = variables_of(parsed)["ssl_policy"]
    assert ssl_policy["default"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    pattern = validation_regex(ssl_policy)
    for allowed in ("ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06"):
        assert re.search(pattern, allowed), allowed
    for refused in (
        "ELBSecurityPolicy-2016-08",
        "ELBSecurityPolicy-TLS-1-2-2017-01",
        "ELBSecurityPolicy-TLS13-1-0-2021-06",
        "ELBSecurityPolicy-TLS13-1-1-2021-06",
    ):
        assert not re.search(pattern, refused), refused


def test_port_80_always_redirects_to_https_with_301(res, parsed):
    http = res["aws_lb_listener.http"]
    assert http["port"] == 80 and http["protocol"] == "HTTP"
    action = one_block(http, "default_action")
    assert action["type"] == "redirect"
    assert one_block(action, "redirect") == {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}
    assert locals_of(parsed)["https"] == "${var.domain != null}"


def test_plain_http_is_a_rule_only_without_a_domain(res):
    """A plain-HTTP environment (opted into in its YAML) forwards through a listener rule; the
    listener itself never changes, so adding a domain later never replaces it."""
    rule = res["aws_lb_listener_rule.plain_http"]
    assert rule["count"] == "${local.https ? 0 : 1}"
    assert rule["listener_arn"] == "${aws_lb_listener.http.arn}"
    assert one_block(rule, "action") == {"type": "forward",
                                         "target_group_arn": '${aws_lb_target_group.this["primary"].arn}'}
    assert one_block(one_block(rule, "condition"), "path_pattern") == {"values": ["/*"]}


def test_no_checkov_skip_for_plain_http_listeners():
    alb = (MODULES / "proxy_server" / "alb.tf").read_text()
    assert "CKV_AWS_2:" not in alb and "CKV_AWS_103:" not in alb


def test_https_only_resources_depend_on_the_domain(res):
    for name in (
        "aws_lb_listener.https",
        "aws_acm_certificate.this",
        "aws_acm_certificate_validation.this",
    ):
        assert res[name]["count"] == "${local.https ? 1 : 0}", name


# ---- Load balancer --------------------------------------------------------------------------


def test_alb_is_public_drops_invalid_headers_and_mitigates_desync(res):
    alb = res["aws_lb.this"]
    assert alb["load_balancer_type"] == "application"
    assert alb["internal"] is False
    assert alb["drop_invalid_header_fields"] is True
    assert alb["desync_mitigation_mode"] == "strictest"
    assert alb["enable_deletion_protection"] == "${var.deletion_protection}"
    assert alb["idle_timeout"] == "${var.idle_timeout}"


def test_deletion_protection_defaults_on(parsed):
    assert variables_of(parsed)["deletion_protection"]["default"] is True


def test_access_logs_go_to_an_sse_s3_log_bucket(res, parsed):
    logs = one_block(res["aws_lb.this"], "access_logs")
    assert logs["enabled"] is True
    assert logs["bucket"] == "${module.log_bucket.id}"
    bucket = literal(parsed["module"][0])["log_bucket"]
    assert bucket["source"] == "../s3_bucket"
    assert bucket["kms_key_arn"] is None  # ALB access logs are only delivered to SSE-S3 buckets
    assert bucket["policy_documents"] == ["${data.aws_iam_policy_document.log_delivery.json}"]


def test_log_delivery_policy_is_scoped_to_the_awslogs_prefix(parsed):
    statements = data_sources(parsed, "aws_iam_policy_document")["log_delivery"]["statement"]
    principals = {p["type"]: p["identifiers"] for s in statements for p in s["principals"]}
    assert principals["AWS"] == ["${data.aws_elb_service_account.current.arn}"]
    assert principals["Service"] == ["logdelivery.elasticloadbalancing.amazonaws.com"]
    for statement in statements:
        assert statement["effect"] == "Allow"
        assert statement["actions"] == ["s3:PutObject"]
        for resource in statement["resources"]:
            assert resource.endswith("/AWSLogs/${data.aws_caller_identity.current.account_id}/*"), resource


def test_no_wildcard_action_in_any_policy(parsed):
    docs = data_sources(parsed, "aws_iam_policy_document")
    assert docs, "expected at least one policy document"
    for name, doc in docs.items():
        for statement in blocks(doc, "statement"):
            actions = statement.get("actions", []) + statement.get("not_actions", [])
            assert actions, f"{name}: statement without actions"
            for action in actions:
                assert "*" not in action, f"{name}: wildcard action {action}"


# ---- Target group ---------------------------------------------------------------------------


def test_target_groups_register_ips_and_check_liveness(res, parsed):
    """Both groups of the blue/green pair are one resource, so alike: each deployment registers
    the new tasks in the idle one, so either serves production in turn."""
    group = res["aws_lb_target_group.this"]
    assert group["for_each"] == "${local.target_group_names}"
    names = locals_of(parsed)["target_group_names"]
    # The primary group always, the alternate one only with blue/green.
    assert names == ("${merge({primary = var.names.target_group}, "
                     "local.blue_green ? {alternate = var.names.alternate_target_group} : {})}")
    assert group["name"] == "${each.value}"
    assert group["target_type"] == "ip"
    assert group["protocol"] == "HTTP"
    assert group["port"] == "${var.target_port}"
    assert group["deregistration_delay"] == "${var.deregistration_delay}"
    check = one_block(group, "health_check")
    assert check["enabled"] is True
    assert check["path"] == "${var.health_check_path}"
    assert check["matcher"] == "200"
    assert check["timeout"] < check["interval"]
    assert check["healthy_threshold"] >= 2 and check["unhealthy_threshold"] >= 2
    defaults = {name: body.get("default") for name, body in variables_of(parsed).items()}
    assert defaults["health_check_path"] == "/healthz"
    assert defaults["target_port"] == 8080
    assert defaults["deregistration_delay"] == 30
    assert defaults["idle_timeout"] == 60


def test_resources_folded_into_for_each_keep_their_state(parsed):
    """An environment applied before the target groups and the blue/green rules became one
    for_each resource each plans no replacement: each old address moves to its key."""
    assert moves_of(parsed) == {
        "${aws_lb_target_group.this}": '${aws_lb_target_group.this["primary"]}',
        "${aws_lb_target_group.alternate[0]}": '${aws_lb_target_group.this["alternate"]}',
        "${aws_lb_listener_rule.production[0]}": '${aws_lb_listener_rule.blue_green["production"]}',
        "${aws_lb_listener_rule.test[0]}": '${aws_lb_listener_rule.blue_green["test"]}',
    }
    # Every key moved to is one the resource has.
    rules = locals_of(parsed)["blue_green_rules"]
    assert re.search(r"[{,] ?production = \{", rules) and re.search(r"[{,] ?test = \{", rules), rules


def test_listeners_forward_to_the_target_group(res):
    https_action = one_block(res["aws_lb_listener.https"], "default_action")
    assert https_action["type"] == "forward"
    assert https_action["target_group_arn"] == '${aws_lb_target_group.this["primary"].arn}'
    assert "target_group_arn" not in one_block(res["aws_lb_listener.http"], "default_action")


def test_target_group_output_is_ready_only_once_its_listeners_exist(parsed):
    """CreateService fails ("target group does not have an associated load balancer") when the
    service is created before a listener forwards to its target group. The ECS service takes
    this output, so the output carries the dependency on whatever forwards to it: the HTTPS
    listener (which waits for ACM validation) or the plain-HTTP rule."""
    output = outputs_of(parsed)["target_group_arn"]
    assert set(output.get("depends_on", [])) == {"${aws_lb_listener.https}", "${aws_lb_listener_rule.plain_http}"}


# ---- Certificate and DNS --------------------------------------------------------------------


def test_certificate_is_dns_validated_and_replaced_before_destroy(res):
    cert = res["aws_acm_certificate.this"]
    assert cert["validation_method"] == "DNS"
    assert one_block(cert, "lifecycle")["create_before_destroy"] is True
    assert cert["tags"]["Name"] == "${var.names.certificate}"


def test_validation_records_do_not_collide_for_wildcard_and_apex(res, parsed):
    record = res["aws_route53_record.validation"]
    assert record["allow_overwrite"] is True
    # for_each keys must be known at plan time: a set made from the requested names only.
    # A `for` over domain_validation_options (unknown until the certificate exists) makes
    # the whole map unknown and fails the first plan with "Invalid for_each argument".
    assert record["for_each"] == "${local.validation_domains}"
    keys = locals_of(parsed)["validation_domains"]
    assert "local.served_names" in keys and 'trimprefix(name, "*.")' in keys
    assert "domain_validation_options" not in keys
    # One entry per name without its "*." label (a wildcard and its apex share one CNAME),
    # grouped with "..." so the two never collide.
    lookup = locals_of(parsed)["validation_options"]
    assert 'trimprefix(dvo.domain_name, "*.") => dvo...' in lookup
    assert "aws_acm_certificate.this[0].domain_validation_options" in lookup
    assert record["name"] == "${local.validation_options[each.key][0].resource_record_name}"


def test_certificate_validation_waits_for_every_record(res):
    fqdns = res["aws_acm_certificate_validation.this"]["validation_record_fqdns"]
    assert re.fullmatch(r"\$\{\[for (\w+) in aws_route53_record\.validation : \1\.fqdn\]\}", fqdns), fqdns


def test_alias_records_point_at_the_alb_with_health_evaluation(res):
    alias_record = res["aws_route53_record.alias"]
    assert alias_record["for_each"] == "${toset(local.served_names)}"
    assert alias_record["type"] == "A"
    alias = one_block(alias_record, "alias")
    assert alias["name"] == "${aws_lb.this.dns_name}"
    assert alias["zone_id"] == "${aws_lb.this.zone_id}"
    assert alias["evaluate_target_health"] is True


def test_hosted_zone_is_looked_up_or_created(res, parsed):
    assert "create_zone" in res["aws_route53_zone.this"]["count"]
    assert "create_zone" in data_sources(parsed, "aws_route53_zone")["this"]["count"]


# ---- Security group -------------------------------------------------------------------------


def test_ingress_only_on_80_and_443_and_the_test_port_from_its_sources(res, parsed):
    rules = resources(parsed, "aws_vpc_security_group_ingress_rule")
    test_port = "${var.blue_green.test_port}"
    assert {(r["from_port"], r["to_port"]) for r in rules.values()} == {(80, 80), (443, 443), (test_port, test_port)}
    # The blue/green test listener: from test_source_cidrs only, never the internet.
    test = rules["test"]
    assert test["count"] == "${local.blue_green ? length(var.blue_green.test_source_cidrs) : 0}"
    assert test["cidr_ipv4"] == "${var.blue_green.test_source_cidrs[count.index]}"
    for name, rule in rules.items():
        assert rule["ip_protocol"] == "tcp", name
        assert rule["description"], name
        assert rule["security_group_id"] == "${aws_security_group.this.id}", name
    assert not any(name.startswith("aws_security_group_rule.") for name in res)
    assert not blocks(res["aws_security_group.this"], "ingress")


def test_egress_only_to_the_vpc_on_the_target_port(res, parsed):
    rules = resources(parsed, "aws_vpc_security_group_egress_rule")
    assert rules
    for name, rule in rules.items():
        assert rule["cidr_ipv4"] == "${var.vpc_cidr_block}", name
        assert "0.0.0.0/0" not in str(rule) and "::/0" not in str(rule), name
        assert rule["from_port"] == rule["to_port"] == "${var.target_port}", name
        assert rule["description"], name
    assert not blocks(res["aws_security_group.this"], "egress")


# ---- Interface ------------------------------------------------------------------------------


def test_names_keys_are_exactly_those_the_renderer_provides(parsed):
    names_type = variables_of(parsed)["names"]["type"]
    keys = set(re.findall(r"(\w+) = string", names_type))
    assert keys == {"alb", "target_group", "security_group", "log_bucket", "certificate", "alternate_target_group"}


def test_every_variable_is_typed_and_documented(parsed):
    for name, body in variables_of(parsed).items():
        assert body.get("description"), name
        assert body.get("type"), name
        if body["type"].startswith(("${list(", "${map(", "${set(")):
            assert body.get("nullable") is False, name
    domain = variables_of(parsed)["domain"]
    assert domain["default"] is None and "nullable" not in domain


def test_outputs_are_documented_and_complete(parsed):
    outs = outputs_of(parsed)
    for name, body in outs.items():
        assert body.get("description"), name
    assert {
        "alb_arn",
        "alb_arn_suffix",
        "alb_dns_name",
        "alb_zone_id",
        "alb_security_group_id",
        "target_group_arn",
        "target_group_arn_suffix",
        "https_enabled",
        "app_url",
        "listener_arn",
        "alternate_target_group_arn",
        "alternate_target_group_arn_suffix",
        "production_listener_rule_arn",
        "test_listener_rule_arn",
        "test_url",
    } <= set(outs)


# ---- Admin allow-list ----


def _priority(rule: dict[str, Any], index: int) -> int:
    """A rule's priority for count.index = index ("20", or "${10 + count.index}")."""
    value = str(rule["priority"])
    if value.isdigit():
        return int(value)
    match = re.fullmatch(r"\$\{(\d+) \+ count\.index\}", value)
    assert match, value
    return int(match.group(1)) + index


def listener_rules(res, cidrs: list[str], https: bool) -> list[dict[str, Any]]:
    """The rules the module creates on the forwarding listener for `cidrs`, lowest priority first,
    each as {priority, paths, sources, action}: the count expressions evaluated as Terraform would."""
    locals_ = {"admin_path": "/admin*"}
    chunks = [cidrs[i:i + 4] for i in range(0, len(cidrs), 4)]  # chunklist(var.admin_allowed_cidrs, 4)
    allowed_rule, denied_rule = res["aws_lb_listener_rule.admin_allowed"], res["aws_lb_listener_rule.admin_denied"]
    assert allowed_rule["count"] == "${length(local.admin_cidr_chunks)}"
    assert denied_rule["count"] == "${length(var.admin_allowed_cidrs) > 0 ? 1 : 0}"
    rules = []
    for index, chunk in enumerate(chunks):
        conditions = blocks(allowed_rule, "condition")
        assert [c for c in conditions if "source_ip" in c][0]["source_ip"] == [
            {"values": "${local.admin_cidr_chunks[count.index]}"}]
        rules.append({"priority": _priority(allowed_rule, index), "paths": [locals_["admin_path"]],
                      "sources": chunk, "action": one_block(allowed_rule, "action")["type"]})
    if cidrs:
        rules.append({"priority": _priority(denied_rule, 0), "paths": [locals_["admin_path"]], "sources": None,
                      "action": "403"})
    if not https:
        plain = res["aws_lb_listener_rule.plain_http"]
        rules.append({"priority": _priority(plain, 0), "paths": ["/*"], "sources": None, "action": "forward"})
    for rule in (allowed_rule, denied_rule):
        paths = [c["path_pattern"][0]["values"] for c in blocks(rule, "condition") if "path_pattern" in c]
        assert paths == [["${local.admin_path}"]]
        assert rule["listener_arn"] == "${local.listener_arn}"
    return sorted(rules, key=lambda r: r["priority"])


def answer(rules: list[dict[str, Any]], path: str, source: str, https: bool) -> str:
    """What the load balancer does: the first rule (by priority) whose conditions all hold, else
    the listener's default action (forward on HTTPS; on plain HTTP only the rules forward)."""
    import fnmatch
    import ipaddress

    for rule in rules:
        if not any(fnmatch.fnmatchcase(path, p) for p in rule["paths"]):
            continue
        if rule["sources"] is not None and not any(
                ipaddress.ip_address(source) in ipaddress.ip_network(c) for c in rule["sources"]):
            continue
        return rule["action"]
    return "forward" if https else "redirect"


@pytest.mark.parametrize("https", [True, False])
def test_admin_is_forwarded_only_for_the_listed_networks(res, https: bool):
    rules = listener_rules(res, ["203.0.113.0/24", "198.51.100.7/32"], https)
    assert answer(rules, "/admin/", "203.0.113.9", https) == "forward"
    assert answer(rules, "/admin/login/", "198.51.100.7", https) == "forward"
    assert answer(rules, "/admin/", "198.51.100.8", https) == "403"
    assert answer(rules, "/admin", "192.0.2.1", https) == "403"
    assert answer(rules, "/", "192.0.2.1", https) == "forward"
    assert answer(rules, "/todos/1/", "192.0.2.1", https) == "forward"


@pytest.mark.parametrize("https", [True, False])
def test_without_a_list_admin_is_open_as_before(res, https: bool):
    rules = listener_rules(res, [], https)
    assert [r for r in rules if r["paths"] == ["/admin*"]] == []
    assert answer(rules, "/admin/", "192.0.2.1", https) == "forward"


def test_many_networks_are_spread_over_rules_of_at_most_five_condition_values(res):
    cidrs = [f"10.{i}.0.0/16" for i in range(20)]
    rules = listener_rules(res, cidrs, https=False)
    allowed = [r for r in rules if r["action"] == "forward" and r["paths"] == ["/admin*"]]
    assert len(allowed) == 5
    # ELB quota "condition values per rule": 5, the path included.
    assert all(len(r["paths"]) + len(r["sources"]) <= 5 for r in allowed)
    assert sorted(c for r in allowed for c in r["sources"]) == sorted(cidrs)
    for cidr in cidrs:
        assert answer(rules, "/admin/", cidr.replace("0.0/16", "3.4"), https=False) == "forward"
    assert answer(rules, "/admin/", "192.0.2.1", https=False) == "403"
    # Every allow rule before the 403, the 403 before the plain-HTTP catch-all; none shares a priority.
    priorities = [r["priority"] for r in rules]
    assert len(set(priorities)) == len(priorities)


def test_admin_rules_sit_on_the_listener_that_forwards(parsed):
    assert locals_of(parsed)["listener_arn"] == (
        "${local.https ? one(aws_lb_listener.https[*].arn) : aws_lb_listener.http.arn}")
    denied = resources(parsed)["aws_lb_listener_rule.admin_denied"]
    assert one_block(denied, "action")["fixed_response"] == [
        {"content_type": "text/plain", "message_body": "Forbidden", "status_code": "403"}]


def test_admin_allowed_cidrs_defaults_to_empty_and_is_validated(parsed):
    variable = variables_of(parsed)["admin_allowed_cidrs"]
    assert variable["default"] == [] and variable["nullable"] is False
    condition = one_block(variable, "validation")["condition"]
    assert "cidrsubnet(c, 0, 0) == c" in condition and "<= 20" in condition


# ---- Blue/green ----


def weights(rule: dict[str, Any]) -> dict[str, Any]:
    """target group reference -> weight of a forward action's weighted target groups."""
    action = one_block(rule, "action")
    assert action["type"] == "forward"
    return {g["arn"]: g["weight"] for g in blocks(one_block(action, "forward"), "target_group")}


def test_production_and_test_rules_take_every_path_and_leave_their_weights_to_ecs(res, parsed):
    rule = res["aws_lb_listener_rule.blue_green"]
    assert rule["for_each"] == "${local.blue_green_rules}"
    assert [c["path_pattern"] for c in blocks(rule, "condition")] == [[{"values": ["/*"]}]]
    # Created with production all on the primary group and test all on the alternate one; ECS moves
    # the weights from then on, and a plan must not move them back.
    assert weights(rule) == {'${aws_lb_target_group.this["primary"].arn}': "${each.value.primary_weight}",
                             '${aws_lb_target_group.this["alternate"].arn}': "${100 - each.value.primary_weight}"}
    assert one_block(rule, "lifecycle")["ignore_changes"] == ["action"]
    rules = locals_of(parsed)["blue_green_rules"]
    assert rules.startswith("${!local.blue_green ? {} : {")
    production = re.search(r"production = \{([^}]*)\}", rules).group(1)
    test = re.search(r"test\s*= \{([^}]*)\}", rules).group(1)
    assert "listener_arn = local.listener_arn" in production and "primary_weight = 100" in production
    # After the /admin* rules (10-20), which blue/green refuses anyway (variable validation).
    assert int(re.search(r"priority = (\d+)", production).group(1)) > 20
    # ECS needs two distinct rules: the test rule is on the test listener, not the production one.
    assert "listener_arn = aws_lb_listener.test[0].arn" in test and "primary_weight = 0" in test


def test_test_listener_is_https_on_its_own_port_with_forward_actions_only(res):
    listener = res["aws_lb_listener.test"]
    assert listener["count"] == "${local.blue_green ? 1 : 0}"
    assert (listener["protocol"], listener["port"]) == ("HTTPS", "${var.blue_green.test_port}")
    assert listener["ssl_policy"] == "${var.ssl_policy}"
    assert "aws_acm_certificate_validation.this" in listener["certificate_arn"]
    default = one_block(listener, "default_action")
    assert (default["type"], default["target_group_arn"]) == ("forward", '${aws_lb_target_group.this["alternate"].arn}')


def test_blue_green_needs_a_domain_and_no_admin_allow_list(parsed):
    variable = variables_of(parsed)["blue_green"]
    assert variable["default"] is None
    conditions = [v["condition"] for v in blocks(variable, "validation")]
    assert any("var.domain != null && length(var.admin_allowed_cidrs) == 0" in c for c in conditions)
    assert any("!endswith(c, \"/0\")" in c for c in conditions), "the test port is never open to everyone"


def test_alternate_group_output_waits_for_the_listeners_that_use_it(parsed):
    out = outputs_of(parsed)["alternate_target_group_arn"]
    assert set(out["depends_on"]) == {"${aws_lb_listener.test}", "${aws_lb_listener_rule.blue_green}"}
