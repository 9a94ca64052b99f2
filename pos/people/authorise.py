"""The manager's PIN on the cashier's tablet: who authorises a guarded till action.

A cashier asks; a manager chooses their name and types their till PIN in the same dialog (or a
manager does the action themselves). The view asks `authoriser_from_post`, passes the result to the
service as `authorised_by`, and the service checks the role again (`sale_services.authority_for`).
"""


from django.http import HttpRequest
from rest_framework import serializers

from pos.people.models import User
from pos.people.selectors import authorisers_for
from pos.people.services import PinError, staff_verify_pin


def authoriser_from_post(request: HttpRequest, *, perm: str) -> User | None:
    """The manager whose PIN came with the request, None when none was typed (or none is needed).

    Raises `PinError` for a wrong or locked PIN, or a name that may not authorise; each wrong PIN
    counts towards that manager's lockout (`staff_verify_pin`).
    """
    return authoriser_from(
        request, perm=perm, chosen=request.POST.get("authoriser"), pin=request.POST.get("pin")
    )


def authoriser_from(request: HttpRequest, *, perm: str, chosen, pin) -> User | None:
    """`authoriser_from_post` for any source (the JSON API sends `authoriser` and `pin` in its body)."""
    if request.user.has_perm(perm):
        return None
    chosen = str(chosen if chosen is not None else "").strip()
    pin = str(pin if pin is not None else "").strip()
    if not chosen and not pin:
        return None
    if not chosen.isdigit():
        raise PinError("Choose the manager who authorises.", field="authoriser")
    manager = authorisers_for(user=request.user, perm=perm).filter(pk=int(chosen)).first()
    if manager is None:
        raise PinError("That person cannot authorise this here.", field="authoriser")
    if not pin:
        raise PinError(f"{manager.get_short_name()}, type your till PIN.", field="pin")
    return staff_verify_pin(user=manager, pin=pin, request=request)


def pin_context(request: HttpRequest, *, perm: str, message: str = "", error: str = "", always: bool = False) -> dict:
    """What the PIN section of a dialog shows: shown at once for actions that always need a manager
    (`always`), otherwise only once the service said so (a discount above the limit)."""
    needs = not request.user.has_perm(perm)
    return {
        "needs_pin": needs,
        "show_pin": needs and (always or bool(message) or bool(error)),
        "auth_message": message,
        "pin_error": error,
        "authorisers": list(authorisers_for(user=request.user, perm=perm)),
        "chosen_authoriser": (request.POST.get("authoriser") or "") if request.method == "POST" else "",
    }




class AuthoriserFields(serializers.Serializer):
    """A manager authorising a cashier's guarded action: their user id and till PIN."""

    authoriser = serializers.IntegerField(required=False, allow_null=True, help_text="The manager's user id.")
    pin = serializers.CharField(required=False, allow_blank=True, write_only=True, max_length=12)


def guarded_by(request, data: dict, *, perm: str) -> User | None:
    """The authorising manager (None when the caller holds `perm` or sent no PIN)."""
    return authoriser_from(request, perm=perm, chosen=data.get("authoriser"), pin=data.get("pin"))
