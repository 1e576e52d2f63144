from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A string field that takes strings only (DRF's CharField turns 0 into "0")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class KnownFieldsSerializer(serializers.Serializer):
    """A serializer that refuses fields it does not declare (DRF drops them silently), as
    the bulk route does: a misspelt field is an error, not a value quietly lost."""

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["is not a known field"] for name in unknown})
        return attrs
