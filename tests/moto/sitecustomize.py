"""Loaded by the tests' moto_server (tests/src/moto.rs puts this folder on
PYTHONPATH) so that, with IAM enforced, moto judges what AWS judges and only that.

Signatures: moto recomputes SigV4 itself and gets some wrong (CloudFront's
REST calls, S3 listings with encoded prefixes), refusing requests AWS's own
SDK signed correctly. Its signature check is skipped; who signed (the access
key, its secret's owner, an assumed role's session token) and whether that
identity's policies allow the action on the resource are still judged.

Services: with IAM enforced, moto 5.1 answers 500 to AssumeRole of a role whose trust
policy names a `Service` principal (it looks the caller up under `AWS` only).
Here the service is played by the IAM user named after it (for example
`mediaconvert.amazonaws.com`), which the transcoder stand-in signs as: the
trust holds for that user and no other identity.
"""

try:
    from moto.iam import access_control
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
