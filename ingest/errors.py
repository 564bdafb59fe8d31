class IngestError(Exception):
    """A source that cannot be ingested; the message says why, in words a user can act on."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason
