"""Pure gating rules: given the catalog and a trainee's record, what is open and why.

Every closed gate carries a sentence that says why it is closed and what opens it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from evaluator_cert.grading import format_against

if TYPE_CHECKING:
    from evaluator_cert.content.catalog import Catalog
    from evaluator_cert.content.schema import Level, Module
    from evaluator_cert.grading import ItemGrade


@dataclass(frozen=True)
class CredentialFact:
    level_id: str
    issued_at: datetime
    valid_until: datetime
    revoked: bool = False

    def active(self, now: datetime) -> bool:
        return not self.revoked and self.issued_at <= now < self.valid_until


@dataclass(frozen=True)
class ExamFact:
    level_id: str
    started_at: datetime
    ended_at: datetime | None  # None while the attempt is open
    passed: bool | None = None


@dataclass(frozen=True)
class TraineeRecord:
    """What the rules need to know about one trainee (built by the services from the DB)."""

    passed_modules: frozenset[str] = frozenset()
    module_progress: Mapping[str, tuple[int, float | None]] = field(default_factory=dict)
    credentials: Sequence[CredentialFact] = ()
    exams: Sequence[ExamFact] = ()
    remediation_modules: frozenset[str] | None = None  # None: not in remediation
    unlocked_modules: frozenset[str] = frozenset()  # instructor overrides
    extra_exam_attempts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Gate:
    open: bool
    reason: str  # why it is closed and what opens it; for open gates, a short status
    passed: bool = False


def _duration(delta: timedelta) -> str:
    minutes = max(1, int(delta.total_seconds() // 60) + (delta.total_seconds() % 60 > 0))
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if minutes and not days:
        parts.append(f"{minutes} min")
    return " ".join(parts) or "1 min"


def active_credential(record: TraineeRecord, level_id: str, now: datetime) -> CredentialFact | None:
    live = [c for c in record.credentials if c.level_id == level_id and c.active(now)]
    return max(live, key=lambda c: c.valid_until) if live else None


def level_gate(catalog: Catalog, record: TraineeRecord, level: Level, now: datetime) -> Gate:
    if level.requires is None or active_credential(record, level.requires, now):
        return Gate(True, f"{level.id} {level.title} is open.")
    required = catalog.level(level.requires)
    had = [c for c in record.credentials if c.level_id == level.requires]
    if had and not any(c.active(now) for c in had):
        return Gate(
            False,
            f"{level.id} opens again when your {required.id} credential is renewed "
            "(it has expired or was revoked).",
        )
    return Gate(False, f"{level.id} opens when {required.id} {required.title} is certified.")


def module_passed(record: TraineeRecord, module_id: str) -> bool:
    if record.remediation_modules and module_id in record.remediation_modules:
        return False
    return module_id in record.passed_modules


def module_gate(catalog: Catalog, record: TraineeRecord, module: Module, now: datetime) -> Gate:
    level = catalog.level(module.level)
    passed = module_passed(record, module.id)
    if record.remediation_modules and module.id in record.remediation_modules:
        # Reassigned work is always open, whatever else remediation has reopened.
        return Gate(True, "Reassigned for remediation: pass it again to reopen exams.", False)
    if module.id in record.unlocked_modules:
        return Gate(True, "Unlocked by your instructor.", passed)
    gate = level_gate(catalog, record, level, now)
    if not gate.open:
        return Gate(False, f"{module.id} {gate.reason[len(level.id) + 1 :]}")
    # A prerequisite passed once stays met during remediation: remediation reassigns modules
    # and closes exams; it does not lock the rest of the curriculum.
    missing = [p for p in module.prerequisites if p not in record.passed_modules]
    if missing:
        names = ", ".join(f"{m} {catalog.module(m).title}" for m in missing)
        return Gate(False, f"{module.id} opens when you pass {names}.")
    if passed:
        return Gate(True, "Passed.", True)
    graded, agreement = record.module_progress.get(module.id, (0, None))
    rule = module.gate
    if graded < rule.min_items:
        status = f"{graded} of {rule.min_items} graded items so far."
    else:
        shown = "n/a" if agreement is None else f"{agreement:.2f}"
        status = f"Agreement {shown}; {rule.threshold:.2f} passes."
    return Gate(True, status, False)


def exam_gate(catalog: Catalog, record: TraineeRecord, level: Level, now: datetime) -> Gate:
    gate = level_gate(catalog, record, level, now)
    if not gate.open:
        return Gate(False, f"The {level.id} exam is closed: {gate.reason}")
    if active_credential(record, level.id, now):
        return Gate(False, f"You hold an active {level.id} credential.", passed=True)
    if record.remediation_modules:
        names = ", ".join(sorted(record.remediation_modules))
        return Gate(False, f"Exams are closed during remediation: pass {names} again first.")
    modules = catalog.modules_of(level.id)
    missing = [m.id for m in modules if not module_passed(record, m.id)]
    if missing:
        return Gate(
            False,
            f"The {level.id} exam opens when all {len(modules)} modules are passed "
            f"({len(missing)} to go: {', '.join(missing)}).",
        )
    exams = [e for e in record.exams if e.level_id == level.id]
    open_attempt = next((e for e in exams if e.ended_at is None), None)
    if open_attempt is not None:
        return Gate(True, "Your exam is in progress.")
    rules = level.exam
    window_start = now - timedelta(days=rules.window_days)
    recent = sorted((e for e in exams if e.started_at >= window_start), key=lambda e: e.started_at)
    allowed = rules.max_attempts + record.extra_exam_attempts.get(level.id, 0)
    if len(recent) >= allowed:
        reopens = recent[len(recent) - allowed].started_at + timedelta(days=rules.window_days)
        return Gate(
            False,
            f"You have used {len(recent)} of {allowed} attempts in {rules.window_days} days; "
            f"the next opens in {_duration(reopens - now)}.",
        )
    last_end = max((e.ended_at for e in exams if e.ended_at), default=None)
    if last_end is not None:
        cooldown_end = last_end + timedelta(hours=rules.cooldown_hours)
        if cooldown_end > now:
            return Gate(False, f"Exam cooldown ends in {_duration(cooldown_end - now)}.")
    left = allowed - len(recent)
    return Gate(True, f"Open: {left} attempt{'s' if left != 1 else ''} left in this window.")


@dataclass(frozen=True)
class Overview:
    levels: dict[str, Gate]
    modules: dict[str, Gate]
    exams: dict[str, Gate]
    next_step: str


def overview(catalog: Catalog, record: TraineeRecord, now: datetime) -> Overview:
    levels = {lv.id: level_gate(catalog, record, lv, now) for lv in catalog.levels}
    modules = {m.id: module_gate(catalog, record, m, now) for m in catalog.modules}
    exams = {lv.id: exam_gate(catalog, record, lv, now) for lv in catalog.levels}
    return Overview(levels, modules, exams, _next_step(catalog, record, modules, exams, now))


def _next_step(
    catalog: Catalog,
    record: TraineeRecord,
    modules: Mapping[str, Gate],
    exams: Mapping[str, Gate],
    now: datetime,
) -> str:
    if record.remediation_modules:
        first = sorted(record.remediation_modules)[0]
        return f"Remediation: practise {first} {catalog.module(first).title} again."
    for level in catalog.levels:
        if active_credential(record, level.id, now):
            continue
        for module in catalog.modules_of(level.id):
            gate = modules[module.id]
            if gate.open and not gate.passed:
                return f"Continue {module.id} {module.title}: {gate.reason}"
        if exams[level.id].open:
            return f"Sit the {level.id} {level.title} exam."
        return exams[level.id].reason
    return "You are certified at every level. Keep your agreement up to stay current."


def open_modules(catalog: Catalog, record: TraineeRecord, now: datetime) -> list[str]:
    return [m.id for m in catalog.modules if module_gate(catalog, record, m, now).open]


def weakest_modules(
    catalog: Catalog, skill_scores: Mapping[str, float], level_ids: Iterable[str], k: int = 2
) -> list[str]:
    """Modules that train the ``k`` weakest skills (lowest mean score), for remediation."""
    levels = set(level_ids)
    ranked = sorted(skill_scores.items(), key=lambda kv: kv[1])[:k]
    weak = {skill for skill, _ in ranked}
    return [m.id for m in catalog.modules if m.level in levels and weak & set(m.skills)]


def skill_scores(grades: Sequence[ItemGrade], catalog: Catalog) -> dict[str, float]:
    """Mean item score per skill, a skill being a module skill named in the item's tags
    (all the module's skills when the item names none)."""
    sums: dict[str, list[float]] = defaultdict(list)
    for g in grades:
        origin = catalog.item_origin(g.item_id)
        skills = set(catalog.module(origin.module).skills) if origin.module else set()
        tags = set(catalog.item(g.item_id).tags) & skills or skills
        for skill in tags:
            sums[skill].append(g.score)
    return {k: sum(v) / len(v) for k, v in sums.items()}


def remediation_plan(
    catalog: Catalog,
    grades: Sequence[ItemGrade],
    rolling: float,
    window: int,
    threshold: float,
    passed: Collection[str] = (),
) -> tuple[list[str], str]:
    """After drift: the modules to reassign, and the reason the trainee reads.

    The modules training the weakest skills in ``grades`` (the drift window), among those the
    trainee has reached (answered in the window, or passed); else every module answered in the
    window.
    """
    answered = sorted(
        {m for g in grades if (m := catalog.item_origin(g.item_id).module) is not None}
    )
    reached = set(answered) | set(passed)
    levels = {catalog.item_origin(g.item_id).level for g in grades}
    weakest = weakest_modules(catalog, skill_scores(grades, catalog), levels)
    modules = [m for m in weakest if m in reached] or answered
    reason = (
        f"Rolling agreement {format_against(rolling, threshold)} over your last {window} "
        f"graded items is below {threshold:.2f}."
    )
    return modules, reason
