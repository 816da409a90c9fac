"""Every table, imported in one place so SQLModel.metadata (and Alembic) sees the whole schema."""

from server.assistant.models import RecommendationDismissal, RecommendationShown, RecommenderModel
from server.audit.models import AuditEntry
from server.auth.models import IdempotencyRecord, UserSession
from server.conduct.models import (
    ConductCase,
    ConductCaseEvent,
    ConductRun,
    ConductScore,
    ConductSignal,
    ConductThreshold,
    DepartingCheck,
)
from server.customers.models import (
    Contact,
    CorporateProfile,
    Customer,
    CustomerEvent,
    CustomerGrant,
    CustomerLink,
    CustomerTag,
    CustomerVisit,
    IndividualProfile,
    OwnershipChange,
    Tag,
)
from server.helpers.models import HelperTask
from server.inbox.models import Notification
from server.intel.models import (
    IntelAlert,
    IntelItem,
    IntelItemSource,
    IntelMute,
    IntelSource,
    IntelSourceError,
)
from server.knowledge.models import CustomerFact, KnowledgeScore
from server.learning.models import CaseConsent, QuizCard, QuizReview
from server.mirror.models import MirrorEvaluation, MirrorRatingLink
from server.notebook.models import Note, Reminder, ReminderSetting
from server.opportunities.models import (
    BenefitAdjustment,
    ClaimPolicy,
    FeedEvent,
    Opportunity,
    OpportunityActivity,
    OpportunityImport,
    OpportunityTransition,
)
from server.org.models import Branch, RmProfile, Team, User
from server.overrides.models import ModelOverrides
from server.performance.models import PerformanceEntry, PerformanceTarget
from server.personas.models import MentoringNote, Mentorship, PersonaClassification, PersonaOverride
from server.products.models import Holding, Product, ProductBranch, ProductCase, ProductFit
from server.prospects.models import (
    Prospect,
    ProspectActivity,
    ProspectClaim,
    ProspectImport,
    ProspectLink,
    ProspectModel,
    ProspectScore,
    ProspectTruth,
)
from server.push.models import PushAttempt, PushSubscription
from server.resources.models import Resource, ResourceBooking
from server.warrooms.models import (
    WarRoom,
    WarRoomBulk,
    WarRoomEvent,
    WarRoomMember,
    WarRoomOpportunity,
    WarRoomTarget,
    WarRoomTask,
)
