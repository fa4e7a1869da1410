from __future__ import annotations

from datetime import datetime

from ninja import Schema


class NotificationOut(Schema):
    """One in-app delivery; `id` is the delivery's (what read and acknowledge take)."""

    id: int
    kind: str
    title: str
    body: str
    link: str
    object_type: str
    object_id: str
    created_at: datetime
    read_at: datetime | None
    acknowledged_at: datetime | None

    @staticmethod
    def resolve_kind(obj):
        return obj.message.kind

    @staticmethod
    def resolve_title(obj):
        return obj.message.title

    @staticmethod
    def resolve_body(obj):
        return obj.message.body

    @staticmethod
    def resolve_link(obj):
        return obj.message.link

    @staticmethod
    def resolve_object_type(obj):
        return obj.message.object_type

    @staticmethod
    def resolve_object_id(obj):
        return obj.message.object_id

    @staticmethod
    def resolve_created_at(obj):
        return obj.message.created_at


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


class Acknowledged(Schema):
    id: int
    acknowledged_at: datetime
    acknowledged_via: str
