"""Loaded by the tests' moto_server (tests/src/moto.rs puts this folder on
PYTHONPATH) so that, with IAM enforced, moto judges what AWS judges and only that.

Signatures: moto recomputes SigV4 itself and gets some wrong (CloudFront's
REST calls, S3 listings with encoded prefixes), refusing requests AWS's own
SDK signed correctly. Its signature check is skipped; who signed (the access
key, its secret's owner, an assumed role's session token) and whether that
identity's policies allow the action on the resource are still judged.

Action names: moto's S3 map misses some query keys (`publicAccessBlock`,
`ownershipControls` fall through to ListBucket/CreateBucket) and calls
HeadBucket `s3:HeadBucket`; they are named as IAM names them.

Resources: moto names the resource of S3 requests (bucket and key ARNs) but
passes "*" for IAM and CloudFront calls. A statement scoped to a resource
(`arn:aws:iam::*:role/prefix-*`) then never matches and everything is
denied; for those calls only the action is judged.

Services: with IAM enforced, moto 5.1 answers 500 to AssumeRole of a role whose trust
policy names a `Service` principal (it looks the caller up under `AWS` only).
Here the service is played by the IAM user named after it (for example
`mediaconvert.amazonaws.com`), which the transcoder stand-in signs as: the
trust holds for that user and no other identity.

CloudFront key groups: moto 5.1 has no UpdateKeyGroup or DeleteKeyGroup, and
deletes what AWS refuses to delete. Both calls are added, with AWS's rules
for what may be deleted: a key group a distribution trusts
(`ResourceInUse`), a public key a key group holds (`PublicKeyInUse`), a
distribution that is enabled or not yet deployed (`DistributionNotDisabled`);
and a public key that is gone is `NoSuchPublicKey`, not a server error.
A distribution change, and a change of a key group it trusts, redeploys
the distribution: it reports `InProgress` again (until moto's transition
says it has deployed), so a new key is not taken as live before CloudFront
says the change has spread.
"""

try:
    import datetime

    from moto.cloudfront import models as cloudfront_models
    from moto.cloudfront import responses as cloudfront_responses
    from moto.cloudfront.exceptions import CloudFrontException
    from moto.iam import access_control
    from moto.s3 import responses as s3_responses
except ImportError:  # another Python program with this PYTHONPATH
    access_control = None

if access_control is not None:
    _check_aws_principal = access_control.IAMPolicyStatement._check_principal

    def _check_principal(self, principal):
        expected = self._statement.get("Principal") or {}
        if isinstance(expected, dict) and "Service" in expected and "AWS" not in expected:
            services = expected["Service"]
            services = [services] if isinstance(services, str) else services
            return any(principal.endswith(":user/" + service) for service in services)
        return _check_aws_principal(self, principal)

    access_control.IAMPolicyStatement._check_principal = _check_principal

    def _signature_not_recomputed(self):
        return None

    access_control.IAMRequestBase.check_signature = _signature_not_recomputed

    _element_matches = access_control.IAMPolicyStatement._check_element_matches

    def _check_element_matches(self, statement_element, value):
        if statement_element == "Resource" and value == "*":
            return True
        return _element_matches(self, statement_element, value)

    access_control.IAMPolicyStatement._check_element_matches = _check_element_matches

    _bucket = s3_responses.ACTION_MAP["BUCKET"]
    _bucket["HEAD"]["DEFAULT"] = "ListBucket"
    for _method, _name in (("GET", "Get"), ("PUT", "Put"), ("DELETE", "Put")):
        _bucket[_method]["publicAccessBlock"] = _name + "BucketPublicAccessBlock"
        _bucket[_method]["ownershipControls"] = _name + "BucketOwnershipControls"


if access_control is not None:

    class _Refused(CloudFrontException):
        def __init__(self, status, code, message):
            self.code = status
            super().__init__(code, message)

    def _flag(value):
        return str(value).lower() == "true"

    def _trusting(backend, group_id):
        return [
            d
            for d in backend.distributions.values()
            if group_id in d.distribution_config.default_cache_behavior.trusted_key_groups.group_ids
        ]

    def _key_group_items(config):
        items = (config.get("Items") or {}).get("PublicKey") or []
        return [items] if isinstance(items, str) else list(items)

    def _key_group_to_change(self):
        """The key group the request names, if it exists and If-Match names its version."""
        group_id = self.parsed_url.path.split("/")[-1]
        group = self.backend.key_groups.get(group_id)
        if group is None:
            raise _Refused(404, "NoSuchResource", "The specified key group does not exist.")
        if self.headers.get("If-Match") != group.etag:
            raise _Refused(412, "PreconditionFailed", "The If-Match version is missing or not valid.")
        return group_id, group

    def update_key_group(self):
        group_id, group = _key_group_to_change(self)
        config = self._get_xml_body()["KeyGroupConfig"]
        group.name = config["Name"]
        group.items = _key_group_items(config)
        group.etag = cloudfront_models.random_id(length=14)
        for dist in _trusting(self.backend, group_id):
            _redeploying(dist)
        body = self.response_template(cloudfront_responses.KEY_GROUP_TEMPLATE).render(group=group)
        return 200, {"ETag": group.etag}, body

    def delete_key_group(self):
        group_id, _ = _key_group_to_change(self)
        if _trusting(self.backend, group_id):
            raise _Refused(409, "ResourceInUse", "Cannot delete this resource because it is in use.")
        del self.backend.key_groups[group_id]
        return 204, {"status": 204}, ""

    _delete_public_key = cloudfront_responses.CloudFrontResponse.delete_public_key

    def delete_public_key(self):
        key_id = self.parsed_url.path.split("/")[-1]
        if any(key_id in group.items for group in self.backend.key_groups.values()):
            raise _Refused(409, "PublicKeyInUse", "The specified public key is in use.")
        return _delete_public_key(self)

    _delete_distribution = cloudfront_responses.CloudFrontResponse.delete_distribution

    def delete_distribution(self):
        dist = self.backend.distributions.get(self.path.split("/")[-1])
        if dist is not None and (_flag(dist.distribution_config.enabled) or dist.status != "Deployed"):
            raise _Refused(
                409,
                "DistributionNotDisabled",
                "The distribution you are trying to delete has not been disabled.",
            )
        return _delete_distribution(self)

    _get_public_key = cloudfront_responses.CloudFrontResponse.get_public_key

    def get_public_key(self):
        if self.parsed_url.path.split("/")[-1] not in self.backend.public_keys:
            raise _Refused(404, "NoSuchPublicKey", "The specified public key does not exist.")
        return _get_public_key(self)

    def _redeploying(dist):
        dist.status = "InProgress"
        dist._time_progressed = datetime.datetime.now()
        dist._tick = 0

    _update_distribution = cloudfront_responses.CloudFrontResponse.update_distribution

    def update_distribution(self):
        status, headers, body = _update_distribution(self)
        dist = self.backend.distributions.get(self.path.split("/")[-2])
        if dist is not None:
            _redeploying(dist)
        # moto renders some flags of the answer as Python's True/False, which no SDK reads.
        body = body.replace(">True<", ">true<").replace(">False<", ">false<")
        return status, headers, body

    cloudfront_responses.CloudFrontResponse.update_distribution = update_distribution
    cloudfront_responses.CloudFrontResponse.get_public_key = get_public_key
    cloudfront_responses.CloudFrontResponse.update_key_group = update_key_group
    cloudfront_responses.CloudFrontResponse.delete_key_group = delete_key_group
    cloudfront_responses.CloudFrontResponse.delete_public_key = delete_public_key
    cloudfront_responses.CloudFrontResponse.delete_distribution = delete_distribution
