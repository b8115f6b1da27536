# ---- Domain and TLS ----

data "aws_route53_zone" "this" {
  count = local.https && !try(var.domain.create_zone, false) ? 1 : 0

  name         = var.domain.zone_name
  private_zone = false
}

resource "aws_route53_zone" "this" {
  # checkov:skip=CKV2_AWS_38: DNSSEC signing needs a key-signing key in us-east-1 and a DS record at the registrar, both outside this module.
  # checkov:skip=CKV2_AWS_39: Query logging needs a log group in us-east-1 and a Route 53 resource policy, account-level settings outside this module.
  count = local.https && try(var.domain.create_zone, false) ? 1 : 0

  # A new zone must be delegated (its name servers set at the registrar) before the
  # certificate can validate; the zone_name_servers output lists them.
  name = var.domain.zone_name
}

locals {
  zone_id = local.https ? one(concat(aws_route53_zone.this[*].zone_id, data.aws_route53_zone.this[*].zone_id)) : null
}

resource "aws_acm_certificate" "this" {
  count = local.https ? 1 : 0

  domain_name               = local.served_names[0]
  subject_alternative_names = slice(local.served_names, 1, length(local.served_names))
  validation_method         = "DNS"
  key_algorithm             = "RSA_2048"

  tags = {
    Name = var.names.certificate
  }

  lifecycle {
    # The listener keeps the old certificate until its replacement is issued.
    create_before_destroy = true
  }
}

locals {
  # ACM asks for the same CNAME for "*.example.com" and "example.com": one record per name
  # without its wildcard label serves both. for_each must be keyed by values known at plan
  # time, and domain_validation_options is not (a for over it is unknown as a whole), so the
  # keys come from the requested names and the record data is looked up per key.
  validation_domains = toset([for name in local.served_names : trimprefix(name, "*.")])
  validation_options = local.https ? {
    for dvo in aws_acm_certificate.this[0].domain_validation_options :
    trimprefix(dvo.domain_name, "*.") => dvo...
  } : {}
}

resource "aws_route53_record" "validation" {
  for_each = local.validation_domains

  zone_id = local.zone_id
  name    = local.validation_options[each.key][0].resource_record_name
  type    = local.validation_options[each.key][0].resource_record_type
  records = [local.validation_options[each.key][0].resource_record_value]
  ttl     = 300
  # Another certificate for the same name (e.g. during a create_before_destroy replacement)
  # needs the very same record.
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "this" {
  count = local.https ? 1 : 0

  certificate_arn         = aws_acm_certificate.this[0].arn
  validation_record_fqdns = [for record in aws_route53_record.validation : record.fqdn]
}

resource "aws_route53_record" "alias" {
  for_each = toset(local.served_names)

  zone_id = local.zone_id
  name    = each.value
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
  }
}
