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
"""

try:
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
