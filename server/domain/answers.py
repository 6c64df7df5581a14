"""One set of answers against a form version: `validate` runs the Python function generated for the
version (codegen.py); answers_plan.py holds the plan both validators share and the reference walk
the generated code is tested against. Answer shapes and codes: docs/forms.md "Answers and validation"."""

from server.domain.answers_plan import (
    CONFIRM_KEY,
    FieldError,
    FieldWarning,
    Validation,
    plan_of,
    validate_reference,
)
from server.domain.codegen import validate

__all__ = ["CONFIRM_KEY", "FieldError", "FieldWarning", "Validation", "plan_of", "validate", "validate_reference"]
