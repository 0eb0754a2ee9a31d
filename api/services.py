"""The composition root: every domain's services, wired once per container. Each entry
point (the GraphQL Lambda, the scheduled jobs, the stream consumer, the local server) builds
this and calls into it. A new domain adds its services here."""

from __future__ import annotations

from dataclasses import dataclass

from api.clock import Clock, SystemClock
from api.config import Config
from api.events import EventBus
from api.feedback import followups_reactions
from api.feedback import reactions as feedback_reactions
from api.feedback.followups import FollowUpService
from api.feedback.reviews import ReviewService
from api.feedback.surveys import SurveyService
from api.members.service import MemberService
from api.members.view import MemberReader
from api.nudges import reactions as nudge_reactions
from api.nudges.admin import NudgeAdmin
from api.nudges.bounces import BounceHandler
from api.nudges.channels import AwsChannels, Channels
from api.nudges.devices import DeviceService
from api.nudges.queue import SqsQueue
from api.nudges.scheduler import NudgeScheduler
from api.nudges.sender import Sender
from api.nudges.settings import NudgeConfigs
from api.nudges.suppressions import SuppressionService
from api.nudges.templates import TemplateService
from api.nudges.unsubscribe import UnsubscribeService
from api.points.maintenance import MaintenanceService
from api.points.orders import OrderService
from api.points.refunds import RefundService
from api.points.spending import SpendingService
from api.program.service import ProgramService
from api.promotions import reactions as promotion_reactions
from api.promotions.admin import Catalog, PromotionAdmin
from api.promotions.batches import CodeBatches
from api.promotions.checkout import CheckoutService
from api.promotions.reservations import ReservationService
from api.referrals import reactions as referral_reactions
from api.referrals.joining import Joining
from api.referrals.rewards import RewardJob
from api.referrals.service import ReferralService, check_settings
from api.rewards import pools as reward_pools
from api.rewards.admin import RewardAdmin, RewardCatalog
from api.rewards.pools import Pools
from api.rewards.redemptions import RedemptionService
from api.rewards.views import RewardReader
from api.store.binding import bind
from api.stream import Reactions
from api.tiers import reactions as tier_reactions
from api.tiers.service import TierService


@dataclass(frozen=True)
class Services:
    config: Config
    clock: Clock
    program: ProgramService
    members: MemberService
    member_views: MemberReader
    orders: OrderService
    refunds: RefundService
    spending: SpendingService
    maintenance: MaintenanceService
    tiers: TierService
    promotions: PromotionAdmin
    code_batches: CodeBatches
    checkout: CheckoutService
    reservations: ReservationService
    referrals: ReferralService
    referral_rewards: RewardJob  # the scheduled job
    rewards: RewardAdmin
    reward_pools: Pools
    redemptions: RedemptionService
    reward_views: RewardReader
    reviews: ReviewService
    surveys: SurveyService
    follow_ups: FollowUpService
    unsubscribe: UnsubscribeService  # one-click unsubscribe links
    nudge_config: NudgeConfigs  # triggers and rules, cached per container
    nudge_queue: SqsQueue | None  # scheduler -> sender; None: not configured
    nudge_scheduler: NudgeScheduler  # the hourly job
    nudge_sender: Sender  # the queue's consumer
    nudges: NudgeAdmin  # records, lift, explain, runs on demand
    channels: Channels  # SES and SNS: email, SMS, push
    devices: DeviceService  # members' push devices
    suppressions: SuppressionService  # email addresses that bounced or complained
    mail_feedback: BounceHandler  # SES bounces and complaints, through SNS
    templates: TemplateService  # nudge message templates: rendering, editing, preview
    events: EventBus | None  # where events out go (EventBridge); None: not configured
    reactions: Reactions  # to the table's stream


def build_services(config: Config, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    bind(config)  # after the imports above: every domain's item types are defined
    catalog = Catalog(clock)  # live promotions, cached per container
    program = ProgramService(config, clock, [check_settings(catalog)])
    checkout = CheckoutService(program, catalog)
    rewards = RewardCatalog(clock)  # live rewards, cached per container
    tiers = TierService(clock, program)  # the ladder, cached per container
    bus = EventBus(config, config.event_bus_name) if config.event_bus_name else None
    members = MemberService(clock, program, Joining(clock, program, catalog))
    nudge_config = NudgeConfigs(clock)
    queue = SqsQueue(config, config.nudge_queue_url) if config.nudge_queue_url else None
    reviews = ReviewService(clock, program)
    surveys = SurveyService(config, clock, program, tiers)
    scheduler = NudgeScheduler(
        clock=clock,
        program=program,
        configs=nudge_config,
        tiers=tiers,
        rewards=rewards,
        reviews=reviews,
        surveys=surveys,
        queue=queue,
    )
    channels = AwsChannels(config)
    suppressions = SuppressionService(clock, program)
    devices = DeviceService(config, clock, program, channels)
    unsubscribe = UnsubscribeService(config, program, members)
    templates = TemplateService(
        clock, config, program, MemberReader(program), values_source=scheduler.preview_values
    )
    sender = Sender(
        clock=clock,
        config=config,
        program=program,
        configs=nudge_config,
        renderer=templates,
        channels=channels,
        devices=devices,
        suppressions=suppressions,
        unsubscribe=unsubscribe,
    )
    return Services(
        config=config,
        clock=clock,
        program=program,
        members=members,
        member_views=MemberReader(program),
        orders=OrderService(clock, program),
        refunds=RefundService(clock, program),
        spending=SpendingService(config, clock, program),
        maintenance=MaintenanceService(clock, program, config.maintenance_workers),
        tiers=tiers,
        promotions=PromotionAdmin(clock, program, catalog),
        code_batches=CodeBatches(clock, program),
        checkout=checkout,
        reservations=ReservationService(clock, program, checkout),
        referrals=ReferralService(clock, program),
        referral_rewards=RewardJob(clock, program),
        rewards=RewardAdmin(clock, program, rewards, catalog),
        reward_pools=Pools(clock, program),
        redemptions=RedemptionService(config, clock, program, rewards, catalog),
        reward_views=RewardReader(clock, program, rewards, catalog),
        reviews=reviews,
        surveys=surveys,
        follow_ups=FollowUpService(clock, program),
        unsubscribe=unsubscribe,
        nudge_config=nudge_config,
        nudge_queue=queue,
        nudge_scheduler=scheduler,
        nudge_sender=sender,
        nudges=NudgeAdmin(config, program, scheduler),
        channels=channels,
        devices=devices,
        suppressions=suppressions,
        mail_feedback=BounceHandler(suppressions, members),
        templates=templates,
        events=bus,
        # One line per domain that reacts to the table's stream.
        reactions=Reactions(
            [
                tier_reactions.count_members(clock),
                promotion_reactions.generate_codes(clock),
                referral_reactions.first_orders(clock, program),
                reward_pools.add_codes(clock),
                feedback_reactions.purchases(clock),
                followups_reactions.open_follow_ups(clock, program),
                *([] if bus is None else [followups_reactions.announce(clock, bus)]),
                nudge_reactions.member_watches(clock, program, nudge_config, rewards),
                nudge_reactions.order_watches(clock, program, nudge_config),
            ]
        ),
    )
