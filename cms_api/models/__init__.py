"""The content model; importing this package registers every table on Base.metadata."""

from cms_api.models.answer import AnswerPassage, UnansweredQuestion
from cms_api.models.article import (
    Article,
    ArticleAuthor,
    ArticleSlug,
    ArticleTopic,
    Citation,
    MedicalReview,
    RelatedLink,
    Section,
)
from cms_api.models.audit import AuditEvent
from cms_api.models.base import Base
from cms_api.models.change import ChangeEvent
from cms_api.models.comment import ReviewComment
from cms_api.models.document import (
    ListedArticle,
    ListedArticleCount,
    PublishedDocument,
    RenderFormat,
)
from cms_api.models.faq import Faq
from cms_api.models.image import Image, ImageFile
from cms_api.models.person import Credential, Person, PersonTranslation
from cms_api.models.presence import ArticlePresence
from cms_api.models.preview import PreviewToken
from cms_api.models.question import ReaderQuestion
from cms_api.models.red_flag import RedFlag
from cms_api.models.revision import Revision
from cms_api.models.search import SearchEntry, SearchEntryTopic, SearchTopicCount, SearchWord
from cms_api.models.studio_session import StudioSession
from cms_api.models.topic import MedicalCode, Topic, TopicTranslation
from cms_api.models.user import ApiToken, LoginLink, User
from cms_api.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "AnswerPassage",
    "ApiToken",
    "Article",
    "ArticleAuthor",
    "ArticlePresence",
    "ArticleSlug",
    "ArticleTopic",
    "AuditEvent",
    "Base",
    "ChangeEvent",
    "Citation",
    "Credential",
    "Faq",
    "Image",
    "ImageFile",
    "ListedArticle",
    "ListedArticleCount",
    "LoginLink",
    "MedicalCode",
    "MedicalReview",
    "Person",
    "PersonTranslation",
    "PreviewToken",
    "PublishedDocument",
    "ReaderQuestion",
    "RedFlag",
    "RelatedLink",
    "RenderFormat",
    "ReviewComment",
    "Revision",
    "SearchEntry",
    "SearchEntryTopic",
    "SearchTopicCount",
    "SearchWord",
    "Section",
    "StudioSession",
    "Topic",
    "TopicTranslation",
    "UnansweredQuestion",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
