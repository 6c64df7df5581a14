"""The request type every handler and helper annotates with. Litestar's Request is generic in its
user, auth and state types; Pantau uses none of them (the principal comes from a dependency), so one
alias says so once instead of a type-checker exception on each handler."""

from __future__ import annotations

from typing import Any, TypeAlias

import litestar

Request: TypeAlias = litestar.Request[Any, Any, Any]
