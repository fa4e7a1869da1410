"""My notifications: list, count unread, mark read, acknowledge. Mounted at /api/v1/notifications."""

from __future__ import annotations

from ninja import Query, Router

from zhili.core.pagination import PageParams, paginate
from zhili.core.schemas import ProblemOut
from zhili.notifications import selectors, services
from zhili.notifications.schemas import Acknowledged, Marked, NotificationPage, UnreadCount

router = Router(tags=["notifications"])


@router.get("", response=NotificationPage, summary="My notifications, newest first")
def notifications_list(request, page: Query[PageParams], unread: bool | None = None):
    result = paginate(selectors.notification_list(actor=request.user, unread=unread), page)
    result["unread"] = selectors.notification_unread_count(actor=request.user)
    return result


@router.get("/unread-count", response=UnreadCount, summary="How many of mine are unread")
def notifications_unread(request):
    return {"unread": selectors.notification_unread_count(actor=request.user)}


@router.post("/{int:notification_id}/read", response={200: Marked, 404: ProblemOut},
             summary="Mark one as read")
def notification_read(request, notification_id: int):
    return {"marked": services.notification_mark_read(actor=request.user,
                                                      notification_id=notification_id)}


@router.post("/read-all", response=Marked, summary="Mark all of mine as read")
def notifications_read_all(request):
    return {"marked": services.notification_mark_read(actor=request.user)}


@router.post("/{int:notification_id}/acknowledge", response={200: Acknowledged, 404: ProblemOut},
             summary="Acknowledge one of mine (收到)")
def notification_acknowledge(request, notification_id: int):
    return services.delivery_acknowledge(delivery=notification_id, actor=request.user, via="api")
