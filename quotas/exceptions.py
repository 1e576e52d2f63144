class QuotaExceeded(Exception):
    """A request would exceed a quota; the API answers 402 with `reason` and `detail`."""

    CONNECT = "contact_connect_quotas"
    TOTAL = "contact_total_quotas"

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
