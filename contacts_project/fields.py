from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A string field that takes strings only (DRF's CharField turns 0 into "0")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
