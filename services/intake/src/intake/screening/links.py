"""The proposer's signed revise link: where a request to complete or reformulate a proposal is answered."""

from __future__ import annotations

from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from intake.screening.model import RevisionLinkExpired, RevisionLinkInvalid


class RevisionLinks:
    """Signed, expiring links to a proposal's revise page. A link names one revision request, which the database
    closes when it is used or superseded: the signature proves where the link came from, the row decides if it
    still works."""

    def __init__(self, secret: str, public_url: str, days: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="kp-intake-revise-v1")
        self.public_url = public_url.rstrip("/")
        self.max_age = timedelta(days=days)

    def token(self, request_id: str) -> str:
        return str(self._serializer.dumps({"q": request_id}))

    def url(self, reference_code: str, request_id: str) -> str:
        return f"{self.public_url}/intake/p/{reference_code}/revise?token={self.token(request_id)}"

    def request_id(self, token: str) -> str:
        """The request the token names; RevisionLinkExpired or RevisionLinkInvalid otherwise."""
        try:
            payload = self._serializer.loads(token, max_age=int(self.max_age.total_seconds()))
        except SignatureExpired:
            raise RevisionLinkExpired("the link has expired: ask the secretariat for a new one") from None
        except BadSignature:
            raise RevisionLinkInvalid("the link is not valid: use the whole link from the e-mail") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("q"), str):
            raise RevisionLinkInvalid("the link is not valid: use the whole link from the e-mail")
        return str(payload["q"])
