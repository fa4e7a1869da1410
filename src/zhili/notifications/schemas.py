from __future__ import annotations

from datetime import datetime

from ninja import Schema


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    object_type: str
    object_id: str
    created_at: datetime
    read_at: datetime | None


class NotificationPage(Schema):
    count: int
    page: int
    page_size: int
    unread: int
    items: list[NotificationOut]


class Marked(Schema):
    marked: int


class UnreadCount(Schema):
    unread: int
