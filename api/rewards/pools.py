"""Pools of imported codes: the shop uploads up to 100 000 codes (gift cards, codes of its
own platform) for an IMPORTED_CODE reward; they join the pool in the background.

An upload is checked whole in the request (typed errors naming the first bad code), its
repeats removed, and stored as chunks of 1000 codes with an upload item, which is its own
idempotency record. The table's stream then adds the codes (`add_codes`), STEP at a time, in
one transaction each: a marker per code (put only if absent: a code already in the pool, from
this upload or an earlier one, is a duplicate and left out), the pool code at the next
ordinal, the pool's size and the upload's progress under their versions. A redelivered
record finds the progress moved on and adds nothing twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from api import validation as v
from api.auth import Permission, Principal
from api.clock import Clock
from api.errors import InvalidInput, NotFound
from api.idempotency import Keyed, Plan, fingerprint, keyed_write
from api.observability import count, logger
from api.program import store as program
from api.program.service import ProgramService
from api.rewards import checks, store
from api.rewards.model import RewardType, Upload, UploadStatus
from api.store import reads
from api.store.base import RecordItem, TableItem
from api.store.reads import Snapshot
from api.store.tx import Add, Cancelled, Retry, Transaction, with_retries
from api.stream import Change, Reaction

MAX_UPLOAD = 100_000
CHUNK = 1000  # codes per chunk item, and per stream record
STEP = 48  # codes per transaction: a marker and a pool code each, the size and the upload
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{3,63}")


def check_codes(codes: Sequence[str]) -> tuple[list[str], int]:
    """The codes in upload order without repeats, and how many repeats were left out."""
    if not 1 <= len(codes) <= MAX_UPLOAD:
        raise InvalidInput("codes", f"From 1 to {MAX_UPLOAD} codes per upload.")
    for i, code in enumerate(codes):
        if not (code.isascii() and _CODE.fullmatch(code)):
            bad = sum(1 for c in codes if not (c.isascii() and _CODE.fullmatch(c)))
            raise InvalidInput(
                f"codes[{i}]",
                f"{bad} code(s) are not 4-64 ASCII letters, digits, - or _ (starting with a "
                "letter or digit); nothing was uploaded.",
            )
    unique = list(dict.fromkeys(codes))
    return unique, len(codes) - len(unique)


class Pools:
    def __init__(self, clock: Clock, program_service: ProgramService) -> None:
        self._clock = clock
        self._program = program_service

    def upload(
        self, actor: Principal, reward_id: str, codes: Sequence[str], idempotency_key: str
    ) -> Upload:
        """Idempotent on the key: the same codes again return the first upload."""
        actor.require(Permission.MANAGE_REWARDS)
        rid = checks.reward_id(reward_id, "rewardId")
        key = v.external_id("idempotencyKey", idempotency_key)
        unique, repeated = check_codes(codes)
        digest = hashlib.sha256("\n".join(codes).encode()).hexdigest()
        upload_id = "u" + hashlib.sha256(f"{rid}#{key}".encode()).hexdigest()[:16]
        keyed = Keyed(
            store.upload_key(rid, upload_id), fingerprint({"codes": digest}), "idempotencyKey"
        )
        # Chunks are named by their content, so another request under this key cannot
        # overwrite the chunks of the first (it is refused as IdempotencyConflict).
        data_id = digest[:16]
        reward = reads.get(store.reward_key(rid), store.RewardItem)
        if reward is None:
            raise NotFound("reward")
        if store.reward_from_item(reward).type is not RewardType.IMPORTED_CODE:
            raise InvalidInput("rewardId", "Codes are uploaded to IMPORTED_CODE rewards.")
        existing = reads.get(keyed.record, store.UploadItem)
        if existing is None:
            with store.ChunkItem.batch_write() as batch:
                for n, start in enumerate(range(0, len(unique), CHUNK)):
                    chunk = store.ChunkItem(
                        *store.chunk_key(rid, data_id, n), codes=unique[start : start + CHUNK]
                    )
                    batch.save(chunk)

        def decide(snapshot: Snapshot) -> Plan[Upload]:
            if snapshot.get(store.reward_key(rid), store.RewardItem) is None:
                raise NotFound("reward")
            now = self._program.now(program.settings(snapshot))
            item = store.UploadItem(
                *keyed.record,
                request_hash=keyed.fingerprint,
                upload_id=upload_id,
                reward_id=rid,
                data_id=data_id,
                status=UploadStatus.PENDING.value,
                received=len(unique),
                repeated=repeated,
                created_at=now,
                updated_at=now,
            )
            return Plan(store.upload_from_item(item), new=[item])

        def replay(record: RecordItem) -> Upload:
            assert isinstance(record, store.UploadItem)
            return store.upload_from_item(record)

        keys = [store.reward_key(rid), program.SETTINGS_KEY]
        return keyed_write(self._clock, keyed, keys, decide, replay)

    def uploads(self, actor: Principal, reward_id: str) -> list[Upload]:
        """A reward's uploads, oldest first, with their progress."""
        actor.require(Permission.MANAGE_REWARDS)
        rid = checks.reward_id(reward_id, "rewardId")
        pk, _ = store.upload_key(rid, "")
        items = reads.query(pk, TableItem.sk.startswith("UPLOAD#"), limit=100, descending=False)
        found = [store.upload_from_item(i) for i in items if isinstance(i, store.UploadItem)]
        return sorted(found, key=lambda u: u.created_at)


@dataclass(frozen=True)
class _Step:
    upload: store.UploadItem
    codes: list[str]  # the next ones to add, in upload order
    pooled: int  # the pool's size now


def _next(key: tuple[str, str]) -> _Step | None:
    """The upload as it stands and its next STEP codes; None once it is done."""
    upload = reads.get(key, store.UploadItem)
    if upload is None or upload.processed >= upload.received:
        return None
    stock = store.stock_from_item(reads.get(store.stock_key(upload.reward_id), TableItem))
    chunk_no, offset = divmod(upload.processed, CHUNK)
    chunk = reads.get(store.chunk_key(upload.reward_id, upload.data_id, chunk_no), store.ChunkItem)
    if chunk is None:
        raise RuntimeError(f"upload {upload.upload_id}: chunk {chunk_no} is missing")
    codes = cast(list[str], chunk.codes)
    return _Step(upload, codes[offset : offset + STEP], stock.pooled)


def _add(step: _Step, duplicates: set[str]) -> None:
    """One transaction: the step's new codes at the next ordinals, the pool's size and the
    upload's progress. Raises Cancelled with the markers that exist (duplicates)."""
    upload, rid = step.upload, step.upload.reward_id
    fresh = [c for c in step.codes if c not in duplicates]
    tx = Transaction()
    for i, code in enumerate(fresh):
        tx.put_new(store.MarkerItem(*store.marker_key(rid, code), upload_id=upload.upload_id))
        tx.put_new(store.PoolCodeItem(*store.pool_key(rid, step.pooled + i), code=code))
    size = store.StockItem.pooled == step.pooled
    if step.pooled == 0:
        size = size | store.StockItem.pooled.does_not_exist()
    tx.add(Add(store.StockItem(*store.stock_key(rid)), {"pooled": len(fresh)}, size))
    upload.processed += len(step.codes)
    upload.added += len(fresh)
    upload.duplicates += len(step.codes) - len(fresh)
    done = upload.processed >= upload.received
    upload.status = (UploadStatus.DONE if done else UploadStatus.RUNNING).value
    tx.put(upload)
    tx.commit()


def add_codes(clock: Clock) -> Reaction:
    """The stream's reaction to an upload PENDING or RUNNING: add its next CHUNK codes."""

    def react(change: Change) -> None:
        item = change.new
        if not isinstance(item, store.UploadItem) or item.status == UploadStatus.DONE:
            return
        added = 0
        while added < CHUNK:
            step = with_retries(clock, lambda: _one(item.key, clock))
            if step is None:
                break
            added += step
        if added:
            count("RewardCodesPooled", added)

    return react


def _one(key: tuple[str, str], clock: Clock) -> int | None:
    """Add the next step's codes; how many codes it looked at (None: nothing left)."""
    step = _next(key)
    if step is None:
        return None
    step.upload.updated_at = clock.now()
    duplicates: set[str] = set()
    while True:
        try:
            _add(step, duplicates)
            break
        except Cancelled as exc:
            rid = step.upload.reward_id
            found = {c for c in step.codes if store.marker_key(rid, c) in exc.reasons}
            if not found - duplicates:
                raise Retry() from exc  # the size or the progress moved: read again
            duplicates |= found
            step = _next(key)  # the upload item was changed in place: read it again
            if step is None:
                return None
            step.upload.updated_at = clock.now()
    if duplicates:
        logger.info("Duplicate codes left out", extra={"count": len(duplicates)})
    return len(step.codes)
