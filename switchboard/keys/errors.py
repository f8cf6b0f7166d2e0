"""The one error of the key API that `switchboard.errors` lacks: a missing resource.

SwitchboardError
└── NotFound   404   no such key (or the admin API is disabled)

Authentication and permission errors are `switchboard.errors.AuthenticationFailed` and
`PermissionDenied`.
"""

from __future__ import annotations

from switchboard.errors import SwitchboardError


class NotFound(SwitchboardError):
    status = 404
    type = "invalid_request_error"
    code = "not_found"
