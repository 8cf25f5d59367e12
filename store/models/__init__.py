"""Every table of the project. Importing this package registers them all on `Base.metadata`."""

from store.db import Base
from store.models.console import AuditEntry, Editor  # noqa: F401
from store.models.content import Article, ArticleImage, ArticleTerm, Image, ImageUpload  # noqa: F401
from store.models.members import BindCode, Binding, FigureSnapshot, Member, MemberHistory  # noqa: F401
from store.models.menu import CustomMenu  # noqa: F401
from store.models.pushes import Notification, Push, PushArticle, PushEvent, PushPreview  # noqa: F401
from store.models.reading import (  # noqa: F401
    ArticleDay,
    ArticleTotal,
    Fetched,
    FollowerDay,
    FollowerSource,
    ReadArticle,
    ReadHour,
)
from store.models.shared import SharedEntry
from store.models.sources import SourceRun, SourceState  # noqa: F401
from store.models.webhook import Follower, KeywordRule, MessageLog  # noqa: F401

__all__ = ["Base", "SharedEntry"]
