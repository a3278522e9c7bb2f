"""Reading, checking, loading and exporting the ladder files (docs/ladder-format.md).

Every file is checked before anything is written, and all files load in one
transaction: a bad file is reported by name and field and nothing is half-loaded.
Loading is idempotent: rows are saved only when a value differs, so a second run
writes nothing (and adds no history).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import yaml
from django.db import transaction
from django.db.models import Model, ProtectedError

from policies.models import (
    DEFAULT_STATEMENT_WANTED,
    BypassRule,
    CalendarDayOff,
    Completion,
    ConcernCategory,
    DayType,
    LocalAuthority,
    Nation,
    Policy,
    PolicyKind,
    RaisedBy,
    Role,
    Stage,
    StageMode,
)

LADDER_DIR = Path(__file__).resolve().parent / "ladders"
# The C loader when PyYAML was built with libyaml: the same safe subset, much faster.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ModelT = TypeVar("ModelT", bound=Model)


class LadderError(Exception):
    """A ladder file that cannot be loaded, with the file and field named."""


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


# --- checking -----------------------------------------------------------------------


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> LadderError:
        return LadderError(f"{self.source}: {where}: {message}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be a mapping of keys to values")
        return value

    def get(self, data: dict[str, Any], key: str, where: str) -> Any:
        if key not in data:
            raise self.fail(f"{where}{key}", "is missing")
        return data[key]

    def text(self, data: dict[str, Any], key: str, where: str, *, blank: bool = False) -> str:
        value = self.get(data, key, where)
        if value is None and blank:
            return ""
        if not isinstance(value, str) or (not blank and not value.strip()):
            raise self.fail(f"{where}{key}", "must be text" + ("" if blank else " (not empty)"))
        return value.strip()

    def slug(self, data: dict[str, Any], key: str, where: str) -> str:
        value = self.text(data, key, where)
        if not SLUG.match(value):
            raise self.fail(
                f"{where}{key}", f"{value!r} must use lower-case letters, digits and hyphens"
            )
        return value

    def flag(self, data: dict[str, Any], key: str, where: str) -> bool:
        value = self.get(data, key, where)
        if not isinstance(value, bool):
            raise self.fail(f"{where}{key}", "must be true or false")
        return value

    def optional_flag(self, data: dict[str, Any], key: str, where: str) -> bool:
        """A newer true/false key: absent means false, so older files keep loading."""
        return self.flag({key: False} | data, key, where)

    def days(self, data: dict[str, Any], key: str, where: str) -> int | None:
        value = self.get(data, key, where)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 365:
            raise self.fail(
                f"{where}{key}", "must be a whole number of days from 0 to 365, or null"
            )
        return value

    def choice(self, data: dict[str, Any], key: str, where: str, choices: Iterable[str]) -> str:
        value = self.get(data, key, where)
        allowed = list(choices)
        if value not in allowed:
            raise self.fail(f"{where}{key}", f"{value!r} must be one of: {', '.join(allowed)}")
        return value

    def known_keys(
        self,
        data: dict[str, Any],
        where: str,
        known: Iterable[str],
        *,
        replaced: dict[str, str] | None = None,
        elsewhere: dict[str, str] | None = None,
    ) -> None:
        """Refuse a key the format does not have, so a misspelt setting is never ignored.

        `replaced`: old keys and what replaced them; `elsewhere`: keys that belong in
        another place, and where.
        """
        for key in data:
            if replaced and key in replaced:
                raise self.fail(f"{where}{key}", replaced[key])
            if elsewhere and key in elsewhere:
                raise self.fail(f"{where}{key}", elsewhere[key])
        unknown = sorted(str(key) for key in data if key not in set(known))
        if unknown:
            raise self.fail(
                f"{where}{unknown[0]}",
                "is not a key of this format (see docs/ladder-format.md); known here: "
                + ", ".join(known),
            )

    def role(self, data: dict[str, Any], key: str, where: str, roles: dict[str, str]) -> str:
        value = self.slug(data, key, where)
        if value not in roles:
            raise self.fail(f"{where}{key}", f"role {value!r} is not listed under roles")
        return value


# The format's keys, in the order export_policy writes them (docs/ladder-format.md).
TOP_LEVEL_KEYS = (
    "slug",
    "name",
    "kind",
    "authority",
    "source",
    "effective_from",
    "chair_title",
    "raisers",
    "raise_window_working_days",
    "roles",
    "informal",
    "formal_cap_working_days",
    "bypass",
    "overdue_repeat_working_days",
    "auto_escalate_when_overdue",
    "calendar_day_off",
    "immediate_safety",
    "categories",
    "stages",
)
AUTHORITY_KEYS = ("slug", "name", "nation")
BYPASS_KEYS = ("allowed", "reason_required")
SAFETY_KEYS = ("role", "route", "response_days")
CATEGORY_KEYS = ("name", "good_practice", "items")
INFORMAL_KEYS = (
    "name",
    "role",
    "also_roles",
    "response_days",
    "day_type",
    "chair_sets_timescale",
    "chair_may_vary_timescale",
    "issue_within_days",
    "mode",
    "addresses_several",
    "completion",
    "partner_responders",
    "guidance",
)
# Settings about the formal ladder: who raises a rung, who is copied, passing over, the end.
FORMAL_ONLY_KEYS = (
    "statement_required",
    "statement_wanted_label",
    "raised_by",
    "raiser_roles",
    "copy",
    "response_to_qa_managers",
    "optional",
    "condition",
    "direct_entry",
    "final",
    "referral",
)
STAGE_KEYS = INFORMAL_KEYS[:-1] + FORMAL_ONLY_KEYS + ("guidance",)
COPY_MESSAGE = (
    "copies name relationships to the case, not whole roles: write "
    "`copy: {social_workers: true, case_line: [team-manager], posts: [...]}` "
    "(see docs/ladder-format.md)"
)
REPLACED_STAGE_KEYS = {
    "cc": COPY_MESSAGE,
    "cc_previous_recipients": COPY_MESSAGE,
    "external_responders": "was replaced by `partner_responders: true` (the stage may be "
    "addressed to people in the authority's partner directory; council staff are always "
    "role-checked, so nothing switches the role check off)",
}
ELSEWHERE_TOP_LEVEL_KEYS = {
    "immediate_safety_response_days": "write it under immediate_safety as `response_days`",
}


def check_ladder(data: Any, source: str) -> dict[str, Any]:
    """Return the ladder in a normal form, or raise LadderError naming the field."""
    c = _Checker(source)
    data = c.mapping(data, "the file")
    c.known_keys(data, "", TOP_LEVEL_KEYS, elsewhere=ELSEWHERE_TOP_LEVEL_KEYS)
    authority = c.mapping(c.get(data, "authority", ""), "authority")
    c.known_keys(authority, "authority.", AUTHORITY_KEYS)
    roles_raw = c.mapping(c.get(data, "roles", ""), "roles")
    roles: dict[str, str] = {}
    for slug, name in roles_raw.items():
        if not isinstance(slug, str) or not SLUG.match(slug):
            raise c.fail("roles", f"{slug!r} must use lower-case letters, digits and hyphens")
        if not isinstance(name, str) or not name.strip():
            raise c.fail(f"roles.{slug}", "must be the role's display name")
        roles[slug] = name.strip()

    effective = c.get(data, "effective_from", "")
    if effective is not None and not isinstance(effective, date):
        try:
            effective = date.fromisoformat(str(effective))
        except ValueError:
            raise c.fail(
                "effective_from", f"{effective!r} must be a date like 2021-10-01, or null"
            ) from None

    raisers = c.get(data, "raisers", "")
    if not isinstance(raisers, list) or not raisers:
        raise c.fail("raisers", "must list at least one role slug")
    for i, slug in enumerate(raisers):
        if slug not in roles:
            raise c.fail(f"raisers[{i}]", f"role {slug!r} is not listed under roles")

    bypass = c.mapping(c.get(data, "bypass", ""), "bypass")
    c.known_keys(bypass, "bypass.", BYPASS_KEYS)
    safety = c.get(data, "immediate_safety", "")
    if safety is not None:
        safety = c.mapping(safety, "immediate_safety")
        c.known_keys(safety, "immediate_safety.", SAFETY_KEYS)
        safety = {
            "role": c.role(safety, "role", "immediate_safety.", roles)
            if safety.get("role")
            else None,
            "route": c.text(safety, "route", "immediate_safety."),
            # 0 is "the same working day"; absent or null: the stage's own timescale.
            "response_days": c.days(
                {"response_days": None} | safety, "response_days", "immediate_safety."
            ),
        }

    def stage(raw: Any, where: str, order: int) -> dict[str, Any]:
        s = c.mapping(raw, where)
        w = f"{where}."
        formal = bool(order)
        informal_only = {
            key: "is a setting of the formal stages only, not of the informal stage"
            for key in FORMAL_ONLY_KEYS
        }
        c.known_keys(
            s,
            w,
            STAGE_KEYS if formal else INFORMAL_KEYS,
            replaced=REPLACED_STAGE_KEYS,
            elsewhere=None if formal else informal_only,
        )
        return {
            "order": order,
            "name": c.text(s, "name", w),
            "role": c.role(s, "role", w, roles),
            "also_roles": _role_list(c, s, "also_roles", w, roles),
            "response_days": c.days(s, "response_days", w),
            "day_type": c.choice(s, "day_type", w, DayType.values),
            "chair_sets_timescale": c.optional_flag(s, "chair_sets_timescale", w),
            # Newer keys are optional, with the model's defaults, so older files still load.
            "chair_may_vary_timescale": c.optional_flag(s, "chair_may_vary_timescale", w),
            "issue_within_days": c.days({"issue_within_days": None} | s, "issue_within_days", w),
            "mode": c.choice(s, "mode", w, StageMode.values),
            "statement_required": c.flag(s, "statement_required", w) if formal else False,
            "statement_wanted_label": c.text(
                {"statement_wanted_label": DEFAULT_STATEMENT_WANTED} | s,
                "statement_wanted_label",
                w,
            )
            if formal
            else DEFAULT_STATEMENT_WANTED,
            "raised_by": c.choice(s, "raised_by", w, RaisedBy.values)
            if formal
            else RaisedBy.RAISER,
            "raiser_roles": _role_list(c, {"raiser_roles": []} | s, "raiser_roles", w, roles)
            if formal
            else [],
            **_copies(c, s, w, roles, formal=formal),
            "addresses_several": c.optional_flag(s, "addresses_several", w),
            "completion": c.choice(
                {"completion": Completion.ALL.value} | s, "completion", w, Completion.values
            ),
            "partner_responders": c.flag(s, "partner_responders", w),
            "optional": c.optional_flag(s, "optional", w) if formal else False,
            "condition": c.text({"condition": ""} | s, "condition", w, blank=True)
            if formal
            else "",
            "direct_entry": c.flag(s, "direct_entry", w) if formal else False,
            "final": c.flag(s, "final", w) if formal else False,
            "referral": c.flag(s, "referral", w) if formal else False,
            "guidance": c.text(s, "guidance", w, blank=True),
        }

    informal_raw = c.get(data, "informal", "")
    stages_raw = c.get(data, "stages", "")
    if not isinstance(stages_raw, list) or not stages_raw:
        raise c.fail("stages", "must list the formal stages in order (at least one)")
    stages = [] if informal_raw is None else [stage(informal_raw, "informal", 0)]
    stages += [stage(raw, f"stages[{i}]", i + 1) for i, raw in enumerate(stages_raw)]
    names = [s["name"] for s in stages]
    for i, name in enumerate(names):
        if names.index(name) != i:
            raise c.fail(
                f"stages[{i - (informal_raw is not None)}].name", f"{name!r} is used twice"
            )

    categories_raw = c.get(data, "categories", "")
    if not isinstance(categories_raw, list):
        raise c.fail("categories", "must be a list (empty if the policy names none)")
    categories = []
    for i, raw in enumerate(categories_raw):
        cat = c.mapping(raw, f"categories[{i}]")
        c.known_keys(cat, f"categories[{i}].", CATEGORY_KEYS)
        items = c.get(cat, "items", f"categories[{i}].")
        if not isinstance(items, list) or not all(isinstance(x, str) and x.strip() for x in items):
            raise c.fail(f"categories[{i}].items", "must be a list of item names")
        if len(set(items)) != len(items):
            raise c.fail(f"categories[{i}].items", "lists an item twice")
        categories.append(
            {
                "name": c.text(cat, "name", f"categories[{i}]."),
                "good_practice": bool(cat.get("good_practice", False)),
                "items": [x.strip() for x in items],
            }
        )
    if len({cat["name"] for cat in categories}) != len(categories):
        raise c.fail("categories", "two categories share a name")

    return {
        "slug": c.slug(data, "slug", ""),
        "name": c.text(data, "name", ""),
        "kind": c.choice(data, "kind", "", PolicyKind.values),
        "authority": {
            "slug": c.slug(authority, "slug", "authority."),
            "name": c.text(authority, "name", "authority."),
            "nation": c.choice(authority, "nation", "authority.", Nation.values),
        },
        "source": c.text(data, "source", ""),
        "effective_from": effective,
        "chair_title": c.text(data, "chair_title", ""),
        "raisers": list(raisers),
        "raise_window_working_days": c.days(data, "raise_window_working_days", ""),
        "roles": roles,
        "formal_cap_working_days": c.days(data, "formal_cap_working_days", ""),
        # Product settings the policies are silent on: optional, with these defaults.
        "overdue_repeat_working_days": c.days(
            {"overdue_repeat_working_days": 5} | data, "overdue_repeat_working_days", ""
        ),
        "auto_escalate_when_overdue": c.optional_flag(data, "auto_escalate_when_overdue", ""),
        "calendar_day_off": c.choice(
            {"calendar_day_off": CalendarDayOff.KEEP.value} | data,
            "calendar_day_off",
            "",
            CalendarDayOff.values,
        ),
        "bypass_rule": c.choice(bypass, "allowed", "bypass.", BypassRule.values),
        "bypass_reason_required": c.flag(bypass, "reason_required", "bypass."),
        "immediate_safety": safety,
        "stages": stages,
        "categories": categories,
    }


COPY_FLAGS = {
    "social_workers": "copy_social_workers",
    "raiser": "copy_raiser",
    "earlier_recipients": "copy_earlier_recipients",
    "qa_managers": "copy_qa_managers",
}
COPY_ROLE_LISTS = {
    "case_line": "copy_case_line_roles",
    "raiser_line": "copy_raiser_line_roles",
    "posts": "copy_posts",
}
NO_COPIES: dict[str, Any] = (
    dict.fromkeys(COPY_FLAGS.values(), False)
    | {key: [] for key in COPY_ROLE_LISTS.values()}
    | {"copy_case_line_up_to": None, "response_to_qa_managers": False}
)


def _copies(
    c: _Checker, s: dict[str, Any], w: str, roles: dict[str, str], *, formal: bool
) -> dict[str, Any]:
    """The stage's `copy` mapping: relationships to this case, each optional."""
    if not formal or (s.get("copy") is None and not s.get("response_to_qa_managers")):
        return dict(NO_COPIES)
    raw = c.mapping(s.get("copy") or {}, f"{w}copy")
    unknown = set(raw) - set(COPY_FLAGS) - set(COPY_ROLE_LISTS) - {"case_line_up_to"}
    if unknown:
        known = ", ".join([*COPY_FLAGS, *COPY_ROLE_LISTS, "case_line_up_to"])
        raise c.fail(f"{w}copy.{sorted(unknown)[0]}", f"is not a relationship ({known})")
    out = dict(NO_COPIES)
    for key, name in COPY_FLAGS.items():
        if key in raw:
            out[name] = c.flag(raw, key, f"{w}copy.")
    for key, name in COPY_ROLE_LISTS.items():
        if key in raw:
            out[name] = _role_list(c, raw, key, f"{w}copy.", roles)
    if raw.get("case_line_up_to") is not None:
        out["copy_case_line_up_to"] = c.role(raw, "case_line_up_to", f"{w}copy.", roles)
    if "response_to_qa_managers" in s:
        out["response_to_qa_managers"] = c.flag(s, "response_to_qa_managers", w)
    return out


def _role_list(
    c: _Checker, s: dict[str, Any], key: str, w: str, roles: dict[str, str]
) -> list[str]:
    value = c.get(s, key, w)
    if not isinstance(value, list):
        raise c.fail(f"{w}{key}", "must be a list of role slugs (empty for none)")
    for i, slug in enumerate(value):
        if slug not in roles:
            raise c.fail(f"{w}{key}[{i}]", f"role {slug!r} is not listed under roles")
    return list(value)


def read_ladder(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)  # noqa: S506
    except OSError as exc:
        raise LadderError(f"{path.name}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise LadderError(f"{path.name}: is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "the file"
        raise LadderError(f"{path.name}: {where}: is not valid YAML") from None
    return check_ladder(raw, path.name)


def read_ladders(paths: Iterable[Path]) -> list[dict[str, Any]]:
    paths = sorted(paths)
    ladders = [read_ladder(p) for p in paths]
    seen: dict[str, str] = {}
    role_names: dict[str, tuple[str, str]] = {}
    for path, ladder in zip(paths, ladders, strict=True):
        if ladder["slug"] in seen:
            raise LadderError(
                f"{path.name}: slug: {ladder['slug']!r} is also used by {seen[ladder['slug']]}"
            )
        seen[ladder["slug"]] = path.name
        for slug, name in ladder["roles"].items():
            other = role_names.setdefault(slug, (name, path.name))
            if other[0] != name:
                raise LadderError(
                    f"{path.name}: roles.{slug}: {name!r} differs from {other[0]!r} in {other[1]}"
                )
    return ladders


# --- loading ------------------------------------------------------------------------


def _sync(obj: ModelT, values: dict[str, Any], report: LoadReport, label: str) -> ModelT:
    """Save only what differs, so an unchanged file writes nothing."""
    if obj.pk is None:
        for key, value in values.items():
            setattr(obj, key, value)
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save()
        report.created.append(label)
        return obj
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if changed:
        for key in changed:
            setattr(obj, key, values[key])
        obj.save()
        report.updated.append(f"{label} ({', '.join(changed)})")
    return obj


def _sync_m2m(manager: Any, wanted: list[Model], report: LoadReport, label: str) -> None:
    if {o.pk for o in manager.all()} != {o.pk for o in wanted}:
        manager.set(wanted)
        report.updated.append(label)


def load_ladders(ladders: list[dict[str, Any]]) -> LoadReport:
    report = LoadReport()
    try:
        with transaction.atomic():
            for ladder in ladders:
                _load_one(ladder, report)
    except ProtectedError as exc:
        names = ", ".join(sorted({str(o) for o in exc.protected_objects})[:5])
        raise LadderError(
            f"cannot remove a stage or category that escalations already use ({names}); "
            "nothing was loaded"
        ) from None
    return report


def _load_one(ladder: dict[str, Any], report: LoadReport) -> None:
    a = ladder["authority"]
    authority = LocalAuthority.objects.filter(slug=a["slug"]).first() or LocalAuthority(
        slug=a["slug"]
    )
    _sync(authority, {"name": a["name"], "nation": a["nation"]}, report, f"authority {a['slug']}")

    roles: dict[str, Role] = {}
    for slug, name in ladder["roles"].items():
        role = Role.objects.filter(slug=slug).first() or Role(slug=slug)
        values: dict[str, Any] = {"name": name}
        if role.pk is None:
            values["is_chair"] = slug == "cp-chair"
            values["is_quality_assurance"] = slug == "qa-manager"
        roles[slug] = _sync(role, values, report, f"role {slug}")

    safety = ladder["immediate_safety"] or {"role": None, "route": "", "response_days": None}
    policy = Policy.objects.filter(slug=ladder["slug"]).first() or Policy(slug=ladder["slug"])
    label = f"policy {ladder['slug']}"
    _sync(
        policy,
        {
            "authority": authority,
            "name": ladder["name"],
            "kind": ladder["kind"],
            "source": ladder["source"],
            "effective_from": ladder["effective_from"],
            "chair_title": ladder["chair_title"],
            "raise_window_working_days": ladder["raise_window_working_days"],
            "formal_cap_working_days": ladder["formal_cap_working_days"],
            "bypass_rule": ladder["bypass_rule"],
            "bypass_reason_required": ladder["bypass_reason_required"],
            "overdue_repeat_working_days": ladder["overdue_repeat_working_days"],
            "auto_escalate_when_overdue": ladder["auto_escalate_when_overdue"],
            "calendar_day_off": ladder["calendar_day_off"],
            "immediate_safety_role": roles[safety["role"]] if safety["role"] else None,
            "immediate_safety_route": safety["route"],
            "immediate_safety_response_days": safety["response_days"],
        },
        report,
        label,
    )
    _sync_m2m(policy.raisers, [roles[s] for s in ladder["raisers"]], report, f"{label} raisers")

    existing = {s.order: s for s in policy.stages.all()}
    for s in ladder["stages"]:
        stage = existing.pop(s["order"], None) or Stage(policy=policy, order=s["order"])
        role_lists = ("also_roles", "raiser_roles", *COPY_ROLE_LISTS.values())
        values = {k: v for k, v in s.items() if k not in ("order", "role", *role_lists)}
        values["role"] = roles[s["role"]]
        up_to = s["copy_case_line_up_to"]
        values["copy_case_line_up_to"] = roles[up_to] if up_to else None
        _sync(stage, values, report, f"{label} stage {s['order']}")
        for key in role_lists:
            manager = getattr(stage, key)
            _sync_m2m(
                manager, [roles[r] for r in s[key]], report, f"{label} stage {s['order']} {key}"
            )
    for stage in existing.values():
        stage.delete()
        report.deleted.append(f"{label} stage {stage.order}")

    themes = {c.name: c for c in policy.categories.filter(parent__isnull=True)}
    for i, cat in enumerate(ladder["categories"]):
        theme = themes.pop(cat["name"], None) or ConcernCategory(policy=policy, name=cat["name"])
        _sync(
            theme,
            {"order": i, "good_practice": cat["good_practice"], "parent": None},
            report,
            f"{label} category {cat['name']}",
        )
        items = {c.name: c for c in theme.items.all()}
        for j, name in enumerate(cat["items"]):
            item = items.pop(name, None) or ConcernCategory(policy=policy, parent=theme, name=name)
            _sync(
                item,
                {"order": j, "good_practice": cat["good_practice"]},
                report,
                f"{label} category {cat['name']}: {name}",
            )
        for item in items.values():
            _delete_category(item, report, label)
    for theme in themes.values():
        for item in theme.items.all():
            _delete_category(item, report, label)
        _delete_category(theme, report, label)


def _delete_category(category: ConcernCategory, report: LoadReport, label: str) -> None:
    if category.escalations.exists():
        raise LadderError(
            f"{label}: category {category.name!r} is used by escalations and cannot be removed; "
            "nothing was loaded"
        )
    category.delete()
    report.deleted.append(f"{label} category {category.name}")


def load_directory(directory: Path = LADDER_DIR) -> LoadReport:
    paths = list(directory.glob("*.yaml")) + list(directory.glob("*.yml"))
    if not paths:
        raise LadderError(f"{directory}: no ladder files (*.yaml) found")
    return load_ladders(read_ladders(paths))


# --- exporting ----------------------------------------------------------------------


def export_policy(policy: Policy) -> str:
    """The policy as a ladder file (comments are not kept: they live in the shipped file)."""
    stages = list(
        policy.stages.select_related("role", "copy_case_line_up_to").prefetch_related(
            "also_roles", "raiser_roles", *COPY_ROLE_LISTS.values()
        )
    )
    roles: dict[str, str] = {}

    def role(r: Role) -> str:
        roles[r.slug] = r.name
        return r.slug

    def stage(s: Stage) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": s.name,
            "role": role(s.role),
            "also_roles": [role(r) for r in s.also_roles.all()],
            "response_days": s.response_days,
            "day_type": s.day_type,
            "chair_sets_timescale": s.chair_sets_timescale,
            "chair_may_vary_timescale": s.chair_may_vary_timescale,
            "issue_within_days": s.issue_within_days,
            "mode": s.mode,
        }
        if not s.is_informal:
            out |= {
                "statement_required": s.statement_required,
                **(
                    {"statement_wanted_label": s.statement_wanted_label}
                    if s.statement_wanted_label != DEFAULT_STATEMENT_WANTED
                    else {}
                ),
                "raised_by": s.raised_by,
                "raiser_roles": [role(r) for r in s.raiser_roles.all()],
                "copy": {
                    **{key: getattr(s, field) for key, field in COPY_FLAGS.items()},
                    **{
                        key: [role(r) for r in getattr(s, field).all()]
                        for key, field in COPY_ROLE_LISTS.items()
                    },
                    "case_line_up_to": role(s.copy_case_line_up_to)
                    if s.copy_case_line_up_to
                    else None,
                },
                "response_to_qa_managers": s.response_to_qa_managers,
            }
        out |= {
            "addresses_several": s.addresses_several,
            "completion": str(s.completion),
            "partner_responders": s.partner_responders,
        }
        if not s.is_informal:
            out |= {
                "optional": s.optional,
                "condition": s.condition,
                "direct_entry": s.direct_entry,
                "final": s.final,
                "referral": s.referral,
            }
        out["guidance"] = s.guidance
        return out

    informal = next((stage(s) for s in stages if s.is_informal), None)
    formal = [stage(s) for s in stages if not s.is_informal]
    raisers = [role(r) for r in policy.raisers.order_by("slug")]
    safety = None
    if (
        policy.immediate_safety_route
        or policy.immediate_safety_role_id
        or policy.immediate_safety_response_days is not None
    ):
        safety = {
            "role": role(policy.immediate_safety_role) if policy.immediate_safety_role else None,
            "route": policy.immediate_safety_route,
            "response_days": policy.immediate_safety_response_days,
        }
    categories = [
        {
            "name": theme.name,
            "good_practice": theme.good_practice,
            "items": [item.name for item in theme.items.order_by("order", "pk")],
        }
        for theme in policy.categories.filter(parent__isnull=True).order_by("order", "pk")
    ]
    data = {
        "slug": policy.slug,
        "name": policy.name,
        "kind": policy.kind,
        "authority": {
            "slug": policy.authority.slug,
            "name": policy.authority.name,
            "nation": policy.authority.nation,
        },
        "source": policy.source,
        "effective_from": policy.effective_from,
        "chair_title": policy.chair_title,
        "raisers": raisers,
        "raise_window_working_days": policy.raise_window_working_days,
        "roles": dict(sorted(roles.items())),
        "informal": informal,
        "formal_cap_working_days": policy.formal_cap_working_days,
        "bypass": {"allowed": policy.bypass_rule, "reason_required": policy.bypass_reason_required},
        "overdue_repeat_working_days": policy.overdue_repeat_working_days,
        "auto_escalate_when_overdue": policy.auto_escalate_when_overdue,
        "calendar_day_off": str(policy.calendar_day_off),
        "immediate_safety": safety,
        "categories": categories,
        "stages": formal,
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
