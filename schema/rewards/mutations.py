"""The admins' catalog and pools; redeeming, cancelling and fulfilling rewards."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.context import Info
from schema.errors import (
    ConcurrentUpdate,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidInput,
    MemberNotFound,
    NotFound,
    mutation,
)
from schema.rewards.inputs import RedeemRewardInput, RewardInput, UploadRewardCodesInput
from schema.rewards.types import Redemption, RewardDetails, RewardUnavailable, RewardUpload


@strawberry.type
class RewardSaved:
    reward: RewardDetails


@strawberry.type
class RewardRedeemed:
    redemption: Redemption


@strawberry.type
class RedemptionCancelled:
    redemption: Redemption


@strawberry.type
class RedemptionFulfilled:
    redemption: Redemption


@strawberry.type
class RewardCodesUploaded:
    upload: RewardUpload


SaveRewardResult = Annotated[
    RewardSaved | InvalidInput | NotFound | IdempotencyConflict | ConcurrentUpdate,
    strawberry.union("SaveRewardResult"),
]
RedeemRewardResult = Annotated[
    RewardRedeemed
    | RewardUnavailable
    | InsufficientPoints
    | InvalidInput
    | NotFound
    | MemberNotFound
    | IdempotencyConflict
    | ConcurrentUpdate,
    strawberry.union("RedeemRewardResult"),
]
CancelRedemptionResult = Annotated[
    RedemptionCancelled | InvalidInput | NotFound | ConcurrentUpdate,
    strawberry.union("CancelRedemptionResult"),
]
FulfilRedemptionResult = Annotated[
    RedemptionFulfilled | InvalidInput | NotFound | ConcurrentUpdate,
    strawberry.union("FulfilRedemptionResult"),
]
UploadRewardCodesResult = Annotated[
    RewardCodesUploaded | InvalidInput | NotFound | IdempotencyConflict | ConcurrentUpdate,
    strawberry.union("UploadRewardCodesResult"),
]


def _saved(info: Info, reward_id: str) -> RewardSaved:
    ctx = info.context
    return RewardSaved(
        reward=RewardDetails.from_view(ctx.services.rewards.get(ctx.principal, reward_id))
    )


@strawberry.type
class RewardMutation:
    @mutation("Admin: a new reward (idempotent on its id).")
    def create_reward(self, info: Info, input: RewardInput) -> SaveRewardResult:
        ctx = info.context
        return _saved(info, ctx.services.rewards.create(ctx.principal, input.to_domain()).id)

    @mutation("Admin: change a live reward (all but its id and type).")
    def update_reward(self, info: Info, input: RewardInput) -> SaveRewardResult:
        ctx = info.context
        return _saved(info, ctx.services.rewards.update(ctx.principal, input.to_domain()).id)

    @mutation("Admin: archive a reward: final; its redemptions stay.")
    def archive_reward(self, info: Info, id: strawberry.ID) -> SaveRewardResult:
        ctx = info.context
        return _saved(info, ctx.services.rewards.archive(ctx.principal, id).id)

    @mutation(
        "Admin: codes for an IMPORTED_CODE reward's pool, added in the background "
        "(rewardUploads shows progress). Idempotent on the key."
    )
    def upload_reward_codes(
        self, info: Info, input: UploadRewardCodesInput
    ) -> UploadRewardCodesResult:
        ctx = info.context
        upload = ctx.services.reward_pools.upload(
            ctx.principal, input.reward_id, input.codes, input.idempotency_key
        )
        return RewardCodesUploaded(upload=RewardUpload.from_domain(upload))

    @mutation(
        "Members (their own points) and the shop backend: spend points on a reward, earliest "
        "expiring first; stock, the member's limit and the code move with them, all or "
        "nothing. Idempotent on the key."
    )
    def redeem_reward(self, info: Info, input: RedeemRewardInput) -> RedeemRewardResult:
        ctx = info.context
        redemption = ctx.services.redemptions.redeem(ctx.principal, input.to_domain())
        return RewardRedeemed(redemption=Redemption.from_domain(redemption))

    @mutation(
        "Take back an unused reward: its points return (a RETURN entry), an issued code is "
        "voided, stock and the member's limit come back. Members within the program's "
        "rewardCancelHours; the shop backend and admins any time. Harmless twice."
    )
    def cancel_redemption(self, info: Info, id: strawberry.ID) -> CancelRedemptionResult:
        ctx = info.context
        redemption = ctx.services.redemptions.cancel(ctx.principal, id)
        return RedemptionCancelled(redemption=Redemption.from_domain(redemption))

    @mutation("Shop backend and admins: a perk was delivered. Harmless twice.")
    def fulfil_redemption(self, info: Info, id: strawberry.ID) -> FulfilRedemptionResult:
        ctx = info.context
        redemption = ctx.services.redemptions.fulfil(ctx.principal, id)
        return RedemptionFulfilled(redemption=Redemption.from_domain(redemption))
