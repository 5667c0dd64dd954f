"""A large synthetic cohort, written in bulk: for load tests, benchmarks and big demos.

``seed_demo`` replays every answer through ``record_answer``; that is right for a demo of two
dozen trainees and far too slow for ten thousand. This module simulates the same trainee
journey (practice sets with hidden duplicates, gate passes, restarts, drift into remediation,
level exams, credentials, calibration sessions) in memory and writes the rows in batches:
``executemany`` on SQLite, ``COPY`` on PostgreSQL.

What stays exact:
- every grade row is what ``grading.grade_item`` returns for the stored answer: answers are
  drawn from a bank of a few simulated variants per item, each graded once by ``grade_item``;
- module progress and attempt agreement are the gate statistics ``grading.grade_attempt``
  computes (kappa, mean QWK or mean score), kept as running tallies so that each answer
  costs a few dictionary updates instead of a full re-aggregation;
- drift is checked after every practice answer on the last ``drift_window`` graded items,
  with the same rule as ``attempts._check_drift``; remediation picks modules with the same
  ``progression.weakest_modules``; exams are judged by ``grading.exam_result``;
- credentials are issued by ``credentials.issue_credential`` (signed, with status index).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
from bisect import bisect_left
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Index, Table, func, insert, select, text, update

from evaluator_cert import grading, progression
from evaluator_cert.db.models import (
    Annotation,
    AppMeta,
    Attempt,
    Base,
    CalibrationParticipant,
    CalibrationSession,
    Grade,
    ModuleProgress,
    Remediation,
    TraineeRolling,
    User,
    utcnow,
)
from evaluator_cert.runtime import AppContext, set_meta
from evaluator_cert.security import hash_password
from evaluator_cert.services import accounts, audit, rolling
from evaluator_cert.services.attempts import (
    DUPLICATE_SUFFIX,
    _practice_form,
    draw_exam_form,
    exam_record,
)
from evaluator_cert.services.demo import FIRST, LAST, ensure_demo_accounts
from evaluator_cert.simulation import simulated_answer

if TYPE_CHECKING:
    from evaluator_cert.content.catalog import Catalog
    from evaluator_cert.content.schema import Item, Module

Progress = Callable[[Iterable[Any], int, str], Iterator[Any]]

META_KEY = "bulk_seed"
# Skills the answer bank is simulated at; a trainee draws from the level nearest a noisy
# copy of their own skill, so agreement follows skill without grading every answer afresh.
SKILL_LEVELS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.78, 0.85, 0.92, 1.0)
DRAWS_PER_LEVEL = 4
COHORT_SIZE = 1000
BATCH_TRAINEES = 250
DUPLICATE_SAME = 0.8  # how often a hidden duplicate gets the very same answer again
CALIBRATION_PARTICIPANTS = 12
DRIFTING = 0.15  # share of trainees whose agreement slips late in their history


def _plain(items: Iterable[Any], total: int, label: str) -> Iterator[Any]:
    yield from items


# ------------------------------------------------------------------------- answer bank


@dataclass(frozen=True)
class Variant:
    """One simulated answer to an item with its grade, serialised once for every reuse.

    ``pairs`` and ``dims`` are the grade's decisions and ratings pre-summed for :class:`Tally`.
    """

    answer_json: str
    grade: grading.ItemGrade
    details_json: str
    pairs: tuple[tuple[str, str, int], ...]
    agree: int
    dims: tuple[tuple[str, int, int, int, int, int, int], ...]

    @classmethod
    def of(cls, answer_json: str, grade: grading.ItemGrade) -> Variant:
        pairs = Counter(grade.decisions)
        dims: dict[str, list[int]] = {}
        for dim, t, g in grade.ratings:
            s = dims.setdefault(dim, [0, 0, 0, 0, 0, 0])
            for k, v in enumerate((1, (t - g) ** 2, t, t * t, g, g * g)):
                s[k] += v
        return cls(
            answer_json,
            grade,
            json.dumps(grade.to_dict()),
            tuple((t, g, c) for (t, g), c in pairs.items()),
            sum(c for (t, g), c in pairs.items() if t == g),
            tuple((dim, *sums) for dim, sums in dims.items()),  # type: ignore[misc]
        )


class AnswerBank:
    """A few graded answer variants per item and skill level, built on first use."""

    def __init__(self, catalog: Catalog, seed: int) -> None:
        self.catalog = catalog
        self.seed = seed
        self._bank: dict[str, list[list[Variant]]] = {}

    def variants(self, item_id: str) -> list[list[Variant]]:
        found = self._bank.get(item_id)
        if found is None:
            found = self._build(self.catalog.item(item_id))
            self._bank[item_id] = found
        return found

    def _build(self, item: Item) -> list[list[Variant]]:
        rng = random.Random(f"{self.seed}:{item.id}")
        seen: dict[str, Variant] = {}  # the same answer is graded once
        levels = []
        for skill in SKILL_LEVELS:
            row = []
            for _ in range(DRAWS_PER_LEVEL):
                answer = simulated_answer(item, skill, rng)
                key = json.dumps(answer)
                variant = seen.get(key)
                if variant is None:
                    variant = Variant.of(key, grading.grade_item(item, answer))
                    seen[key] = variant
                row.append(variant)
            levels.append(row)
        return levels

    def pick(self, item_id: str, skill: float, rng: random.Random) -> Variant:
        wanted = skill + rng.gauss(0.0, 0.06)
        i = min(bisect_left(SKILL_LEVELS, wanted), len(SKILL_LEVELS) - 1)
        if i > 0 and wanted - SKILL_LEVELS[i - 1] < SKILL_LEVELS[i] - wanted:
            i -= 1
        return rng.choice(self.variants(item_id)[i])


# ------------------------------------------------------------------- running statistics


class Tally:
    """Running sums from which the gate statistics of ``grading`` follow in O(1) per update.

    Grades can be added and removed, so the same tally serves a growing attempt and a sliding
    window. Unweighted kappa = 1 - n(n - agree) / (n^2 - sum_c row_c col_c). Quadratic
    weighted kappa per rubric dimension = 1 - n * sum (t-g)^2 / sum_ij row_i col_j (i-j)^2,
    whose denominator expands to n*R2 + n*C2 - 2*R1*C1 (R1, R2: sums of t and t^2; C1, C2 of
    g and g^2); the weights' normalisation by the scale's span cancels, so no scale is needed.
    """

    def __init__(self) -> None:
        self.items = 0
        self.score = 0.0
        self.pairs = 0
        self.agree = 0
        self.chance = 0  # sum over labels of row count x column count
        self.rows: Counter[str] = Counter()
        self.cols: Counter[str] = Counter()
        # dimension -> [n, sum (t-g)^2, R1, R2, C1, C2]
        self.dims: dict[str, list[int]] = {}

    def add(self, v: Variant, sign: int = 1) -> None:
        self.items += sign
        self.score += sign * v.grade.score
        rows, cols = self.rows, self.cols
        for t, g, c in v.pairs:
            c *= sign
            self.pairs += c
            # Adding c to row t raises sum(row*col) by c*col[t]; then col g by c*row[g].
            if sign > 0:
                self.chance += c * cols[t]
                rows[t] += c
                self.chance += c * rows[g]
                cols[g] += c
            else:
                cols[g] += c
                self.chance += c * rows[g]
                rows[t] += c
                self.chance += c * cols[t]
        self.agree += sign * v.agree
        for dim, *sums in v.dims:
            s = self.dims.get(dim)
            if s is None:
                s = self.dims[dim] = [0, 0, 0, 0, 0, 0]
            for k in range(6):
                s[k] += sign * sums[k]

    def kappa(self) -> float | None:
        n = self.pairs
        if n == 0:
            return None
        denom = n * n - self.chance
        return None if denom <= 0 else 1.0 - n * (n - self.agree) / denom

    def mean_qwk(self) -> float | None:
        values = []
        for n, observed, r1, r2, c1, c2 in self.dims.values():
            if n <= 0:
                continue
            expected = n * r2 + n * c2 - 2 * r1 * c1
            if expected > 0:
                values.append(1.0 - n * observed / expected)
        return sum(values) / len(values) if values else None

    def mean_score(self) -> float | None:
        return self.score / self.items if self.items else None

    def statistic(self, metric: str) -> float | None:
        if metric == "kappa":
            return self.kappa()
        if metric == "qwk":
            return self.mean_qwk()
        return self.mean_score()


class RollingWindow:
    """``grading.rolling_agreement`` over the last ``size`` practice grades, kept up to date."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.variants: deque[Variant] = deque()
        self.parts = (Tally(), Tally(), Tally())  # with decisions / rubric only / the rest

    def _part(self, v: Variant) -> Tally:
        if v.grade.decisions:
            return self.parts[0]
        return self.parts[1] if v.grade.ratings else self.parts[2]

    def push(self, v: Variant) -> Variant | None:
        """Add the newest grade; returns the one that left the window, if any."""
        self.variants.append(v)
        self._part(v).add(v)
        if len(self.variants) > self.size:
            old = self.variants.popleft()
            self._part(old).add(old, -1)
            return old
        return None

    def full(self) -> bool:
        return len(self.variants) >= self.size

    @property
    def grades(self) -> list[grading.ItemGrade]:
        return [v.grade for v in self.variants]

    def agreement(self) -> float | None:
        """``grading.combined_agreement`` of the window."""
        parts = []
        decisions, rubric, rest = self.parts
        kappa = decisions.kappa() if decisions.items else None
        if kappa is not None:
            parts.append((kappa, decisions.items))
        qwk = rubric.mean_qwk() if rubric.items else None
        if qwk is not None:
            parts.append((qwk, rubric.items))
        if rest.items:
            parts.append((rest.score / rest.items, rest.items))
        if not parts:
            return None
        return sum(v * n for v, n in parts) / sum(n for _, n in parts)


# ---------------------------------------------------------------------------- the rows


@dataclass
class Rows:
    """Rows of one batch, as tuples in the column order of ``COLUMNS``."""

    users: list[tuple[Any, ...]] = field(default_factory=list)
    attempts: list[tuple[Any, ...]] = field(default_factory=list)
    annotations: list[tuple[Any, ...]] = field(default_factory=list)
    grades: list[tuple[Any, ...]] = field(default_factory=list)
    module_progress: list[tuple[Any, ...]] = field(default_factory=list)
    remediations: list[tuple[Any, ...]] = field(default_factory=list)
    calibration_participants: list[tuple[Any, ...]] = field(default_factory=list)
    trainee_rolling: list[tuple[Any, ...]] = field(default_factory=list)


COLUMNS: dict[str, tuple[str, ...]] = {
    "users": (
        "id",
        "username",
        "display_name",
        "email",
        "password_hash",
        "role",
        "is_active",
        "cohort",
        "show_name_publicly",
        "created_at",
        "password_changed_at",
        "last_active_at",
    ),
    "attempts": (
        "id",
        "user_id",
        "kind",
        "level_id",
        "module_id",
        "calibration_session_id",
        "content_version",
        "status",
        "form",
        "seed",
        "started_at",
        "deadline_at",
        "submitted_at",
        "agreement",
        "passed",
        "result",
    ),
    "annotations": (
        "id",
        "attempt_id",
        "user_id",
        "item_id",
        "answer",
        "created_at",
        "duration_ms",
    ),
    "grades": (
        "id",
        "annotation_id",
        "score",
        "correct",
        "pending_review",
        "details",
        "content_version",
        "graded_at",
    ),
    "module_progress": (
        "user_id",
        "module_id",
        "graded_items",
        "agreement",
        "passed_at",
        "updated_at",
    ),
    "remediations": ("user_id", "reason", "module_ids", "started_at", "released_at"),
    "calibration_participants": ("session_id", "user_id"),
    "trainee_rolling": (
        "user_id",
        "graded",
        "rolling_kappa",
        "kappa_low",
        "kappa_high",
        "previous_kappa",
        "rolling_agreement",
        "previous_agreement",
        "last_activity",
        "updated_at",
    ),
}
TABLES: dict[str, Table] = {
    "users": User.__table__,  # type: ignore[dict-item]
    "attempts": Attempt.__table__,  # type: ignore[dict-item]
    "annotations": Annotation.__table__,  # type: ignore[dict-item]
    "grades": Grade.__table__,  # type: ignore[dict-item]
    "module_progress": ModuleProgress.__table__,  # type: ignore[dict-item]
    "remediations": Remediation.__table__,  # type: ignore[dict-item]
    "calibration_participants": CalibrationParticipant.__table__,  # type: ignore[dict-item]
    "trainee_rolling": TraineeRolling.__table__,  # type: ignore[dict-item]
}
DATETIME_COLUMNS = {
    "created_at",
    "password_changed_at",
    "last_active_at",
    "started_at",
    "deadline_at",
    "submitted_at",
    "graded_at",
    "passed_at",
    "updated_at",
    "released_at",
    "last_activity",
}


class Writer:
    """Batched inserts with explicit ids: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

    Values arrive already in storage form (JSON as text, datetimes aware UTC); on SQLite the
    datetimes become the naive ``YYYY-MM-DD HH:MM:SS.ffffff`` text SQLAlchemy itself writes.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self._sql = {
            name: str(
                insert(TABLES[name])
                .values({c: None for c in cols})
                .compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
            )
            for name, cols in COLUMNS.items()
        }
        self._dt_index = {
            name: [i for i, c in enumerate(cols) if c in DATETIME_COLUMNS]
            for name, cols in COLUMNS.items()
        }

    def write(self, name: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.postgres:
            cols = ", ".join(COLUMNS[name])
            raw = self.conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(f"COPY {name} ({cols}) FROM STDIN") as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row(row)
            return
        idx = self._dt_index[name]
        if idx:
            rows = [_sqlite_times(row, idx) for row in rows]
        self.conn.exec_driver_sql(self._sql[name], rows)  # type: ignore[arg-type]


def _sqlite_times(row: tuple[Any, ...], idx: list[int]) -> tuple[Any, ...]:
    out = list(row)
    for i in idx:
        value = out[i]
        if value is not None:
            # Every datetime here is aware UTC: drop the offset, keep SQLAlchemy's text form.
            out[i] = value.isoformat(" ", "microseconds")[:26]
    return tuple(out)


# ------------------------------------------------------------------------ the journey


@dataclass
class Ids:
    """Next free primary key per table (rows are written with explicit ids)."""

    user: int
    attempt: int
    annotation: int

    def next_attempt(self) -> int:
        self.attempt += 1
        return self.attempt - 1

    def next_annotation(self) -> int:
        self.annotation += 1
        return self.annotation - 1


@dataclass
class ProgressState:
    graded: int = 0
    agreement: float | None = None
    passed_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class RemediationState:
    modules: list[str]
    reason: str
    started_at: datetime
    released_at: datetime | None = None


@dataclass
class Journey:
    """One simulated trainee: the state ``record_answer`` would keep in the database."""

    user_id: int
    skill: float
    drift_after: int | None  # from this answer on, the trainee slips
    drift_drop: float
    clock: datetime
    budget: int
    answered: int = 0
    progress: dict[str, ProgressState] = field(default_factory=dict)
    credentials: list[tuple[str, float, datetime]] = field(default_factory=list)
    exams: list[tuple[str, datetime, bool]] = field(default_factory=list)
    remediations: list[RemediationState] = field(default_factory=list)
    last_active: datetime | None = None
    window: RollingWindow | None = None
    before: RollingWindow | None = None  # the window before ``window`` (the trend)
    practice_answers: int = 0  # hidden duplicates left out, as ``attempts.counted_practice``
    # Decisions of the latest non-duplicate practice answers (2 x drift window), oldest first.
    recent: deque[tuple[tuple[str, str], ...]] = field(default_factory=deque)

    @property
    def current_skill(self) -> float:
        if self.drift_after is not None and self.answered >= self.drift_after:
            return self.skill - self.drift_drop
        return self.skill

    @property
    def remediation(self) -> RemediationState | None:
        r = self.remediations[-1] if self.remediations else None
        return r if r is not None and r.released_at is None else None


class Simulator:
    def __init__(
        self,
        catalog: Catalog,
        bank: AnswerBank,
        ids: Ids,
        rows: Rows,
        now: datetime,
    ) -> None:
        self.catalog = catalog
        self.bank = bank
        self.ids = ids
        self.rows = rows
        self.now = now
        self.version = catalog.version
        level0 = catalog.levels[0]
        self.window_size, self.drift_bar = level0.drift_window, level0.drift_threshold
        self.certified: list[tuple[int, str, float, datetime]] = []

    # ---- choosing what to do next

    def next_step(self, j: Journey) -> tuple[str, str] | None:
        """("module", id) or ("exam", level), following the gates; None when done."""
        remediation = j.remediation
        if remediation is not None:
            for module in self.catalog.modules:
                if module.id in remediation.modules:
                    return ("module", module.id)
        held = {level for level, _, _ in j.credentials}
        for level in self.catalog.levels:
            if level.id in held:
                continue
            for module in self.catalog.modules_of(level.id):
                state = j.progress.get(module.id)
                if state is not None and state.passed_at is not None:
                    continue
                if all(self._passed(j, p) for p in module.prerequisites):
                    return ("module", module.id)
            if remediation is None:
                return ("exam", level.id)
            return None
        return None

    def _passed(self, j: Journey, module_id: str) -> bool:
        state = j.progress.get(module_id)
        remediation = j.remediation
        in_remediation = remediation is not None and module_id in remediation.modules
        return state is not None and state.passed_at is not None and not in_remediation

    def run(self, j: Journey, rng: random.Random) -> None:
        while j.budget > 0 and j.clock < self.now - timedelta(hours=2):
            step = self.next_step(j)
            if step is None:
                break
            kind, target = step
            if kind == "module":
                self.practice(j, self.catalog.module(target), rng)
                j.clock += timedelta(hours=rng.uniform(2, 48))
            else:
                if not self.exam(j, target, rng):
                    break
        for module_id, state in j.progress.items():
            self.rows.module_progress.append(
                (j.user_id, module_id, state.graded, state.agreement, state.passed_at,
                 state.updated_at or j.clock)
            )  # fmt: skip
        for r in j.remediations:
            self.rows.remediations.append(
                (j.user_id, r.reason, json.dumps(r.modules), r.started_at, r.released_at)
            )

    # ---- practice

    def _answer(
        self,
        j: Journey,
        attempt_id: int,
        key: str,
        variant: Variant,
        at: datetime,
        rng: random.Random,
    ) -> None:
        annotation_id = self.ids.next_annotation()
        g = variant.grade
        self.rows.annotations.append(
            (annotation_id, attempt_id, j.user_id, key, variant.answer_json, at,
             int(rng.uniform(15, 120) * 1000))
        )  # fmt: skip
        self.rows.grades.append(
            (annotation_id, annotation_id, g.score, g.correct, g.pending_review,
             variant.details_json, self.version, at)
        )  # fmt: skip
        j.answered += 1
        j.budget -= 1
        j.last_active = at

    def practice(self, j: Journey, module: Module, rng: random.Random) -> None:
        attempt_id = self.ids.next_attempt()
        seed = rng.randrange(1, 2**31 - 1)
        form = _practice_form(self.catalog, module.id, seed)
        started = j.clock
        state = j.progress.setdefault(module.id, ProgressState())
        tally = Tally()
        given: dict[str, Variant] = {}
        status, submitted, passed, result = "open", None, None, None
        agreement: float | None = None
        window = self._window(j)
        for position, key in enumerate(form):
            if j.budget <= 0:
                break
            j.clock += timedelta(minutes=2) * rng.uniform(0.5, 1.5)
            base = key.removesuffix(DUPLICATE_SUFFIX)
            if key != base and base in given and rng.random() < DUPLICATE_SAME:
                variant = given[base]
            else:
                variant = self.bank.pick(base, j.current_skill, rng)
            given.setdefault(base, variant)
            self._answer(j, attempt_id, key, variant, j.clock, rng)
            if key == base:
                j.practice_answers += 1
                tally.add(variant)
                left = window.push(variant)
                if left is not None:
                    self._before(j).push(left)
                j.recent.append(variant.grade.decisions)
                if len(j.recent) > 2 * self.window_size:
                    j.recent.popleft()
            # _update_practice_progress: the attempt's gate statistic after every answer.
            agreement = tally.statistic(module.gate.metric)
            ok = grading.gate_passes(tally.items, agreement, module.gate)
            state.graded, state.agreement, state.updated_at = tally.items, agreement, j.clock
            remediation = j.remediation
            in_remediation = remediation is not None and module.id in remediation.modules
            if ok and (state.passed_at is None or in_remediation):
                if in_remediation and remediation is not None:
                    remediation.modules = [m for m in remediation.modules if m != module.id]
                    if not remediation.modules:
                        remediation.released_at = j.clock
                state.passed_at = j.clock
            if position == len(form) - 1:
                status, submitted = "submitted", j.clock
                passed, reason = grading.gate_decision(tally.items, agreement, module.gate)
                result = {"statistic": agreement, "reason": reason}
            if remediation is None and window.full():
                self._check_drift(j, window)  # the open set stays open, as in the app
        self.rows.attempts.append(
            (attempt_id, j.user_id, "practice", module.level, module.id, None, self.version,
             status, json.dumps(form), seed, started, None, submitted, agreement, passed,
             json.dumps(result) if result is not None else None)
        )  # fmt: skip

    def _window(self, j: Journey) -> RollingWindow:
        # One window per trainee, kept on the journey across attempts.
        if j.window is None:
            j.window = RollingWindow(self.window_size)
        return j.window

    def _before(self, j: Journey) -> RollingWindow:
        if j.before is None:
            j.before = RollingWindow(self.window_size)
        return j.before

    def _check_drift(self, j: Journey, window: RollingWindow) -> None:
        """``attempts._check_drift``."""
        rolling = window.agreement()
        if rolling is None or rolling != rolling or rolling >= self.drift_bar:
            return
        passed = [m for m, state in j.progress.items() if state.passed_at is not None]
        modules, reason = progression.remediation_plan(
            self.catalog, window.grades, rolling, self.window_size, self.drift_bar, passed
        )
        j.remediations.append(RemediationState(list(modules), reason, j.clock))
        for module_id in modules:
            state = j.progress.setdefault(module_id, ProgressState())
            state.graded, state.agreement, state.updated_at = 0, None, j.clock

    # ---- exams

    def exam(self, j: Journey, level_id: str, rng: random.Random) -> bool:
        """Sit the level exam when its attempt rules allow; False when the trainee stops."""
        level = self.catalog.level(level_id)
        rules = level.exam
        bank = self.catalog.exam_bank(level_id)
        if not bank or j.budget < min(rules.form_size, len(bank)):
            return False
        mine = sorted(at for lvl, at, _ in j.exams if lvl == level_id)
        if mine:
            j.clock = max(j.clock, mine[-1] + timedelta(hours=rules.cooldown_hours, minutes=5))
            recent = [at for at in mine if at > j.clock - timedelta(days=rules.window_days)]
            if len(recent) >= rules.max_attempts:
                j.clock = recent[0] + timedelta(days=rules.window_days, hours=1)
        if j.clock >= self.now - timedelta(hours=2):
            return False
        attempt_id = self.ids.next_attempt()
        seed = rng.randrange(1, 2**31 - 1)
        form = draw_exam_form(bank, rules.form_size, seed)
        started = j.clock
        grades = []
        for item_id in form:
            j.clock += timedelta(seconds=rng.uniform(20, 70))
            variant = self.bank.pick(item_id, j.current_skill, rng)
            self._answer(j, attempt_id, item_id, variant, j.clock, rng)
            grades.append(variant.grade)
        outcome = grading.exam_result(grades, rules)
        overall = _finite(outcome.overall)
        result = exam_record(outcome, answered=len(form), items=len(form), timed_out=False)
        self.rows.attempts.append(
            (attempt_id, j.user_id, "exam", level_id, None, None, self.version, "submitted",
             json.dumps(form), seed, started, started + timedelta(minutes=rules.time_limit_minutes),
             j.clock, overall, bool(outcome.passed), json.dumps(result))
        )  # fmt: skip
        j.exams.append((level_id, started, bool(outcome.passed)))
        if outcome.passed:
            j.credentials.append((level_id, overall or 0.0, j.clock))
            self.certified.append((j.user_id, level_id, overall or 0.0, j.clock))
        j.clock += timedelta(hours=rng.uniform(26, 96))
        return True


def _finite(value: float | None) -> float | None:
    return None if value is None or value != value else float(value)


# ------------------------------------------------------------------------- the cohort


def _next_id(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1


def _reset_sequences(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    for name in ("users", "attempts", "annotations", "grades", "module_progress", "remediations",
                 "calibration_participants", "calibration_sessions"):  # fmt: skip
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"
            )
        )


@dataclass(frozen=True)
class Job:
    """Everything a batch needs; module-level so forked workers inherit it."""

    catalog: Catalog
    bank: AnswerBank
    now: datetime
    seed: int
    answers_per_trainee: int
    cohort_size: int
    password_hash: str
    base: Ids


@dataclass
class Done:
    rows: Rows
    certified: list[tuple[int, str, float, datetime]]
    members: list[tuple[str, int, float]]  # cohort, user id, final skill
    totals: Counter[str]


_JOB: Job | None = None


def _simulate_batch(numbers: list[int]) -> Done:
    """Simulate trainees ``numbers``; ids come from disjoint per-batch ranges (gaps are fine:
    a trainee gives at most ``answers_per_trainee`` answers, each attempt at least one)."""
    job = _JOB
    assert job is not None
    span = BATCH_TRAINEES * (job.answers_per_trainee + 1)
    block = numbers[0] // BATCH_TRAINEES
    ids = Ids(0, job.base.attempt + block * span, job.base.annotation + block * span)
    rows = Rows()
    sim = Simulator(job.catalog, job.bank, ids, rows, job.now)
    done = Done(rows, sim.certified, [], Counter())
    journeys: list[Journey] = []
    for i in numbers:
        user_id = job.base.user + i
        trng = random.Random(f"{job.seed}:{i}")
        cohort = f"cohort-{i // job.cohort_size + 1:02d}"
        drifts = trng.random() < DRIFTING
        start = job.now - timedelta(days=trng.uniform(45, 240))
        j = Journey(
            user_id=user_id,
            skill=_skill(trng),
            drift_after=int(job.answers_per_trainee * trng.uniform(0.55, 0.8)) if drifts else None,
            drift_drop=trng.uniform(0.15, 0.3),
            clock=start,
            budget=job.answers_per_trainee,
        )
        sim.run(j, trng)
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 7 + i // 25) % len(LAST)]}"
        joined = start - timedelta(days=1)
        rows.users.append(
            (user_id, f"trainee{i:05d}", name, None, job.password_hash, "trainee", True, cohort,
             trng.random() < 0.3, joined, joined, j.last_active)
        )  # fmt: skip
        done.members.append((cohort, user_id, j.current_skill))
        done.totals["answers"] += j.answered
        done.totals["in remediation"] += j.remediation is not None
        journeys.append(j)
    rows.trainee_rolling.extend(_rolling_rows(journeys, sim.window_size, job.now))
    return done


def _rolling_rows(journeys: Sequence[Journey], window: int, now: datetime) -> list[tuple[Any, ...]]:
    """``trainee_rolling`` rows for a batch: one vectorised kappa pass over all its trainees,
    the same figures ``attempts.refresh_rolling`` derives from the stored answers."""
    ranked = [
        (j.user_id, rank, decisions)
        for j in journeys
        for rank, decisions in enumerate(reversed(j.recent), start=1)
    ]
    figures = rolling.rolling_figures(rolling.decisions_frame(ranked), window)
    out = []
    for j in journeys:
        f = figures.loc[j.user_id] if j.user_id in figures.index else None
        values = [None] * 4 if f is None else [rolling.finite(f[c]) for c in rolling.FIGURES]
        agreements = [
            None if w is None else rolling.finite(w.agreement()) for w in (j.window, j.before)
        ]
        out.append((j.user_id, j.practice_answers, *values, *agreements, j.last_active, now))
    return out


def _simulated(job: Job, batches: list[list[int]]) -> Iterator[Done]:
    """Batches in order; simulated by forked workers while the caller writes (POSIX only)."""
    global _JOB
    _JOB = job
    try:
        workers = min(max(1, (os.cpu_count() or 1)), len(batches))
        if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
            yield from map(_simulate_batch, batches)
            return
        # Built before forking so the workers share the graded answers instead of regrading.
        for item in job.catalog:
            job.bank.variants(item.id)
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_simulate_batch, batches)
    finally:
        _JOB = None


def _after(ctx: AppContext, base: Ids) -> tuple[int, int]:
    with ctx.engine.connect() as conn:
        return _next_id(conn, TABLES["attempts"]), _next_id(conn, TABLES["annotations"])


# Secondary indexes that SQLite maintains far faster when built once after the load than
# row by row during it (unique constraints stay: they guard the data).
DEFERRED_INDEXES = ("ix_annotations_user_created", "ix_annotations_item")


def _defer_indexes(ctx: AppContext) -> list[Index]:
    if ctx.engine.dialect.name != "sqlite":
        return []
    table: Table = Annotation.__table__  # type: ignore[assignment]
    found = [i for i in table.indexes if i.name in DEFERRED_INDEXES]
    with ctx.engine.begin() as conn:
        for index in found:
            index.drop(conn, checkfirst=True)
    return found


def _restore_indexes(ctx: AppContext, indexes: list[Index]) -> None:
    with ctx.engine.begin() as conn:
        for index in indexes:
            index.create(conn, checkfirst=True)


def _refresh_planner_statistics(ctx: AppContext) -> None:
    """ANALYZE after the load. The tables grew by millions of rows at once; until autovacuum
    notices, PostgreSQL plans per-trainee queries as if ``attempts`` held a few hundred rows
    (hash joins over every practice attempt: ``record_answer`` p95 63 ms before, 14 ms after).

    On PostgreSQL a VACUUM comes with it, as its documentation advises after a bulk load:
    otherwise the first queries to touch each new row write its hint bits, and reads cannot
    skip the table for rows the visibility map would mark all-visible."""
    if ctx.engine.dialect.name != "postgresql":
        with ctx.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        return
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    # VACUUM cannot run inside a transaction block.
    with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM (ANALYZE) {tables}")


def _bulk_pragmas(conn: Connection) -> None:
    """A larger page cache for this connection's bulk writes (WAL and syncing stay as set)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA cache_size=-262144")


def _skill(rng: random.Random) -> float:
    # Spread over the whole range: a few near-experts, a long middle, a tail that struggles.
    return min(0.99, max(0.35, rng.gauss(0.8, 0.13)))


def bulk_seed(
    ctx: AppContext,
    *,
    trainees: int,
    answers_per_trainee: int,
    progress: Progress = _plain,
    seed: int = 7,
    now: datetime | None = None,
    cohort_size: int = COHORT_SIZE,
) -> dict[str, Any]:
    """Seed ``trainees`` synthetic trainees with up to ``answers_per_trainee`` answers each.

    Idempotent: a database already bulk-seeded is left alone. Returns a summary.
    """
    created = ensure_demo_accounts(ctx)
    if ctx.meta(META_KEY) is not None:
        return {"accounts created": len(created), "cohort": "already seeded"}
    now = now or utcnow()
    catalog = ctx.base_catalog
    rng = random.Random(seed)
    bank = AnswerBank(catalog, seed)
    # One hash for all synthetic accounts: of a random secret nobody knows, so none can log in.
    password_hash = hash_password(f"bulk-{random.SystemRandom().getrandbits(128):x}")
    with ctx.session() as session:
        instructor = accounts.get_user(session, "instructor")
        instructor_id = instructor.id if instructor else None

    with ctx.engine.connect() as conn:
        base = Ids(
            _next_id(conn, TABLES["users"]),
            _next_id(conn, TABLES["attempts"]),
            _next_id(conn, TABLES["annotations"]),
        )
    job = Job(catalog, bank, now, seed, answers_per_trainee, cohort_size, password_hash, base)
    batches = [
        list(range(start, min(start + BATCH_TRAINEES, trainees)))
        for start in range(0, trainees, BATCH_TRAINEES)
    ]
    totals = Counter[str]()
    members: dict[str, list[Journey]] = defaultdict(list)
    certified: list[tuple[int, str, float, datetime]] = []

    def written() -> Iterator[int]:
        for done in _simulated(job, batches):
            with ctx.engine.begin() as conn:
                _bulk_pragmas(conn)
                writer = Writer(conn)
                for name in COLUMNS:
                    writer.write(name, getattr(done.rows, name))
            certified.extend(done.certified)
            for cohort, user_id, skill in done.members:
                members[cohort].append(
                    Journey(user_id, skill, None, 0.0, now, budget=len(catalog.items))
                )
            totals.update(done.totals)
            yield from range(len(done.members))

    deferred = _defer_indexes(ctx)
    try:
        for _ in progress(written(), trainees, "bulk cohort"):
            pass
    finally:
        _restore_indexes(ctx, deferred)
        _refresh_planner_statistics(ctx)
    ids = Ids(base.user + trainees, *_after(ctx, base))
    with ctx.engine.begin() as conn:
        _reset_sequences(conn)

    sessions = 0
    if instructor_id is not None:
        sessions = _calibration(ctx, catalog, bank, ids, members, instructor_id, rng, now)
    issued = _issue_credentials(ctx, catalog, certified, progress)
    with ctx.session() as session:
        set_meta(session, META_KEY, json.dumps({"trainees": trainees, "seed": seed}))
        set_meta(session, "demo_history", "true")
        audit.record(
            session, None, "demo.bulk_seed", f"{trainees} trainees", answers=totals["answers"]
        )
        session.commit()
    return {
        "accounts created": len(created) + trainees,
        "cohort trainees": trainees,
        "first user id": base.user,
        "answers": totals["answers"],
        "in remediation": totals["in remediation"],
        "credentials": issued,
        "calibration sessions": sessions,
    }


def _calibration(
    ctx: AppContext,
    catalog: Catalog,
    bank: AnswerBank,
    ids: Ids,
    journeys: dict[str, list[Journey]],
    instructor_id: int,
    rng: random.Random,
    now: datetime,
) -> int:
    """One published calibration session per cohort on the first level's batch."""
    level = catalog.levels[0]
    batch = [i.id for i in catalog.calibration_batch(level.id)]
    if not batch:
        return 0
    rows = Rows()
    made = 0
    with ctx.engine.begin() as conn:
        session_table: Table = CalibrationSession.__table__  # type: ignore[assignment]
        for cohort, members in sorted(journeys.items()):
            at = now - timedelta(days=rng.uniform(3, 20))
            session_id = conn.execute(
                insert(session_table).values(
                    title=f"Weekly calibration, {cohort}",
                    level_id=level.id,
                    item_ids=batch,
                    created_by=instructor_id,
                    created_at=at,
                    status="published",
                    published_at=at + timedelta(days=2),
                )
            ).inserted_primary_key[0]
            made += 1
            chosen = rng.sample(members, min(CALIBRATION_PARTICIPANTS, len(members)))
            sim = Simulator(catalog, bank, ids, rows, now)
            for j in chosen:
                rows.calibration_participants.append((session_id, j.user_id))
                attempt_id = ids.next_attempt()
                clock = at + timedelta(hours=rng.uniform(1, 30))
                started = clock
                grades = []
                for item_id in batch:
                    clock += timedelta(seconds=rng.uniform(30, 90))
                    variant = bank.pick(item_id, j.current_skill, rng)
                    sim._answer(j, attempt_id, item_id, variant, clock, rng)
                    grades.append(variant.grade)
                value = _finite(grading.combined_agreement(grades))
                rows.attempts.append(
                    (attempt_id, j.user_id, "calibration", level.id, None, session_id,
                     catalog.version, "submitted", json.dumps(batch), 0, started, None, clock,
                     value, value is not None and value >= level.drift_threshold, None)
                )  # fmt: skip
        writer = Writer(conn)
        for name in ("attempts", "annotations", "grades", "calibration_participants"):
            writer.write(name, getattr(rows, name))
        # Calibration answers are activity too: move the participants' last activity.
        summary: Table = TraineeRolling.__table__  # type: ignore[assignment]
        conn.execute(
            update(summary)
            .where(summary.c.user_id.in_([p[1] for p in rows.calibration_participants]))
            .values(
                last_activity=select(func.max(Annotation.created_at))
                .where(Annotation.user_id == summary.c.user_id)
                .scalar_subquery()
            )
        )
        _reset_sequences(conn)
    return made


def _issue_credentials(
    ctx: AppContext,
    catalog: Catalog,
    certified: Sequence[tuple[int, str, float, datetime]],
    progress: Progress,
) -> int:
    """Signed credentials for every passed exam, through the credentials service."""
    if not certified:
        return 0
    from evaluator_cert.services.credentials import issue_credential

    chunk = 500
    issued = 0
    starts = range(0, len(certified), chunk)
    for start in progress(starts, len(starts), "credentials"):
        part = certified[start : start + chunk]
        with ctx.session() as session:
            users = {
                u.id: u
                for u in session.scalars(select(User).where(User.id.in_({p[0] for p in part})))
            }
            for user_id, level_id, value, at in part:
                issue_credential(
                    session, users[user_id], catalog, level_id, value, at, settings=ctx.settings
                )
                issued += 1
            session.commit()
    return issued


def is_bulk_seeded(ctx: AppContext) -> bool:
    with ctx.session() as session:
        return session.get(AppMeta, META_KEY) is not None
