from django import forms

from config.forms import GovukForm


class CodeForm(GovukForm):
    code = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label="The 6-digit code from your authenticator app",
        max_length=10,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "spellcheck": "false",
                "class": "govuk-input--width-10",
            }
        ),
        error_messages={
            "required": "Enter the 6-digit code from your authenticator app.",
            "invalid": "Enter the code as 6 digits, for example 123456.",
        },
    )
