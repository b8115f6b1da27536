class DeployError(Exception):
    """A release step failed; the message is one line naming the step and the reason."""


class SettingsError(DeployError):
    """The deploy program was started with missing or malformed settings."""
