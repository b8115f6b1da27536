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
  # ACM asks for the same CNAME for "*.example.com" and "example.com". Keying by the name
  # without its wildcard label groups the two into one record. The key comes from the
  # requested names, which are known at plan time; the record name itself is only known
  # once the certificate exists, so it cannot serve as a for_each key on the first apply.
  validation_options = local.https ? {
    for dvo in aws_acm_certificate.this[0].domain_validation_options :
    trimprefix(dvo.domain_name, "*.") => dvo...
  } : {}
}

resource "aws_route53_record" "validation" {
  for_each = local.validation_options

  zone_id = local.zone_id
  name    = each.value[0].resource_record_name
  type    = each.value[0].resource_record_type
  records = [each.value[0].resource_record_value]
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
