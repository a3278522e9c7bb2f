"""The chair's and manager's forms. The stages offered are the rules' (escalations/rules.py),
so a form never offers what the service would refuse; the services check again."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.db.models import Q, QuerySet, prefetch_related_objects
from django.forms import BoundField
from django.utils import timezone

from children.models import Child, Conference
from children.selectors import visible_children
from config.forms import GovukDateField, GovukForm
from escalations import rules
from escalations.models import Addressee, Escalation, Nature, Step
from escalations.rules import default_responder
from escalations.services import MOVED_ON
from policies.deadlines import issue_by_deadline
from policies.models import DEFAULT_STATEMENT_WANTED, BypassRule, ConcernCategory, Policy, Stage
from staff.models import Partner, StaffMember

TEXT = {"rows": 4}


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: StaffMember) -> str:
        agency = f", {obj.agency}" if obj.agency else ""
        return f"{obj.display_name} — {obj.role.name}{agency}"


# A condition written as the policy words it ("where the CP Coordinator is absent …")
# reads as "only where …" beside the stage.
_CONDITION_OPENINGS = {"where", "when", "if", "unless"}


def stage_condition_note(stage: Stage) -> str:
    """What the chair is told beside an optional or conditional stage; '' otherwise."""
    condition = " ".join(stage.condition.split())
    first = condition.split(" ", 1)[0].lower()
    if first == "only":
        return f"o{condition[1:]}"
    if first in _CONDITION_OPENINGS:
        return f"only {condition[0].lower()}{condition[1:]}"
    if condition:
        return condition
    return "optional: it may be passed over" if stage.optional else ""


class RevealingBoundField(BoundField):
    @property
    def revealed(self) -> list[BoundField]:
        """The fields drawn inside these radios, shown for some choices only."""
        return [self.form[name] for name in getattr(self.field, "reveal_fields", [])]


class StageChoiceField(forms.ModelChoiceField):
    # Set by _statement_fields where a stage offered asks for a written statement.
    reveal_fields: list[str]
    reveal_values: str
    reveal_note: str

    def get_bound_field(self, form: forms.BaseForm, field_name: str) -> BoundField:
        return RevealingBoundField(form, self, field_name)

    def label_from_instance(self, obj: Stage) -> str:
        note = stage_condition_note(obj)
        return f"{obj.name} ({obj.timescale_label})" + (f" — {note}" if note else "")


class CategoryField(forms.ModelMultipleChoiceField):
    """Items, prefixed by their theme when the policy has more than one theme."""

    several_themes: bool  # set by the form that builds it, once it knows the items

    def label_from_instance(self, obj: ConcernCategory) -> str:
        if self.several_themes and obj.parent is not None:
            return f"{obj.parent.name}: {obj.name}"
        return obj.name


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def responders_for(
    staff: StaffMember, stages: list[Stage], exclude: StaffMember | None = None
) -> QuerySet[StaffMember]:
    """Active staff of the authority holding a role these stages are addressed to."""
    qs = StaffMember.objects.filter(authority=staff.authority, is_active=True).select_related(
        "user", "role"
    )
    role_ids = {s.role_id for s in stages}
    for stage in stages:
        role_ids |= {r.pk for r in stage.also_roles.all()}
    qs = qs.filter(role_id__in=role_ids)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.order_by("role__name", "user__last_name", "user__first_name")


class PartnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Partner) -> str:
        return f"{obj.name} — {obj.job_title}, {obj.organisation}"


class PartnersChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Partner) -> str:
        return f"{obj.name} — {obj.job_title}, {obj.organisation}"


def _partner_field(form: forms.Form, staff: StaffMember, stages: list[Stage]) -> None:
    """Where a stage offered may be answered by a partner agency (Stage.partner_responders):
    a contact from the authority's partner directory, instead of a member of staff. The
    service checks again that the stage chosen allows it (escalations/services.py)."""
    partners = Partner.objects.filter(authority=staff.authority, is_active=True)
    if not partners.exists():
        return
    several = [s for s in stages if s.partner_responders and s.addresses_several]
    if several:
        form.fields["partner_addressees"] = PartnersChoiceField(
            queryset=partners.order_by("organisation", "name"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label="Partner-agency contacts asked as well",
            help_text=f"Only for {', '.join(s.name for s in several)}, addressed to several "
            "people: each contact ticked replies through their own e-mailed link and code.",
        )
    open_to = [s for s in stages if s.partner_responders and not s.addresses_several]
    if not open_to:
        return
    names = ", ".join(s.name for s in open_to)
    form.fields["partner"] = PartnerChoiceField(
        queryset=partners.order_by("organisation", "name"),
        required=False,
        label="Or a partner-agency contact",
        help_text=f"Only for {names}, which partner agencies may answer. They reply through "
        "an e-mailed link and a one-time code, with no council account. Choosing one here "
        "addresses the step to them instead of a member of staff.",
    )
    # Either may be chosen; the service says so in plain words if neither is.
    form.fields["responder"].required = False


def addressees_from(data: dict[str, Any]) -> list[Any]:
    """Everyone a stage addressed to several people asks: the staff ticked, then the
    partner-agency contacts ticked."""
    return [*(data.get("addressees") or ()), *(data.get("partner_addressees") or ())]


def addressee_from(data: dict[str, Any]) -> dict[str, Any]:
    """The service's `responder` and `partner` from a raise or escalate form: a partner
    chosen replaces the member of staff the form suggested."""
    partner = data.get("partner")
    return {"responder": None if partner else data.get("responder"), "partner": partner}


class AddresseesField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: StaffMember) -> str:
        return f"{obj.display_name} — {obj.role.name}"


def _addressees_field(
    form: forms.Form, staff: StaffMember, stages: list[Stage], children: list[Child]
) -> None:
    """Where a stage offered is addressed to several people at once (Stage.addresses_several):
    the authority's active staff holding a role it names, to tick; ticked to begin with,
    the holder of each of its roles in the children's line (rules.default_addressees).
    Partner-agency contacts for such a stage are chosen beside these (the partner field)."""
    several = [s for s in stages if s.addresses_several]
    if not several:
        return
    prefetch_related_objects(several, "role", "also_roles")
    names = ", ".join(s.name for s in several)
    form.fields["addressees"] = AddresseesField(
        queryset=responders_for(staff, several, exclude=staff),
        initial=[p.pk for p in rules.default_addressees(several[0], children)],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Who the stage is addressed to",
        help_text=f"{names} goes to several people at once, each replying with their own "
        "deadline. Ticked: the holder of each role in the child's line.",
    )
    # On such a stage the people ticked are asked, the first of them as the step's
    # responder (clean_addressees): "Who should respond" is then not needed.
    form.fields["responder"].required = False


def clean_addressees(form: forms.Form, cleaned: dict[str, Any]) -> None:
    """The people ticked count only on a stage addressed to several people; there the
    holder of the stage's own role among them comes first, as the step's responder."""
    if "addressees" not in form.fields:
        return
    stage = cleaned.get("stage")
    ticked = list(cleaned.get("addressees") or [])
    if stage is None or not stage.addresses_several:
        cleaned["addressees"] = []
        return
    ticked.sort(key=lambda p: p.role_id != stage.role_id)
    cleaned["addressees"] = ticked
    if ticked:
        cleaned["responder"] = ticked[0]


STATEMENT_KEYS = ("issue", "actions", "wanted")


def _statement_fields(
    form: forms.Form, stages: list[Stage], *, follow: dict[str, str] | None = None
) -> None:
    """The written statement's three parts, drawn inside the stage radios and shown only
    while a stage that asks for one is chosen (templates/forms/govuk_field.html,
    static/app/reveal.js). `follow`: the boxes on the same form a part copies as it is
    typed (on the raise, "The issue" and "What you want to happen")."""
    asking = [s for s in stages if s.statement_required]
    names = " and ".join(s.name for s in asking)
    # The last question in the policy's words, where the stages asking for a statement
    # agree on them (Cwm Taf's QASG asks for the identified risks).
    asks = {s.statement_wanted_label for s in asking}
    wanted = asks.pop() if len(asks) == 1 else DEFAULT_STATEMENT_WANTED
    follow = follow or {}

    def box(key: str) -> forms.Textarea:
        attrs: dict[str, int | str] = dict(TEXT)
        if key in follow:
            attrs["data-app-prefill-from"] = f"id_{follow[key]}"
        return forms.Textarea(attrs=attrs)

    form.fields["statement_issue"] = forms.CharField(
        label="Written statement: the issue", required=False, widget=box("issue")
    )
    form.fields["statement_actions"] = forms.CharField(
        label="Written statement: what you have done to try to resolve it",
        required=False,
        widget=box("actions"),
    )
    form.fields["statement_wanted"] = forms.CharField(
        label=f"Written statement: {wanted[:1].lower()}{wanted[1:]}",
        required=False,
        widget=box("wanted"),
        help_text="Copies of the earlier steps are attached to the statement automatically.",
    )
    stage_field = form.fields["stage"]
    assert isinstance(stage_field, StageChoiceField)
    stage_field.reveal_fields = [f"statement_{key}" for key in STATEMENT_KEYS]
    stage_field.reveal_values = " ".join(str(s.pk) for s in asking)
    stage_field.reveal_note = (
        f"{names} {'asks' if len(asking) == 1 else 'ask'} for a written statement. It is "
        "filled in from what you have already written: check it, and change what you need."
    )
    for name in stage_field.reveal_fields:
        form.fields[name].revealed_by = "stage"  # type: ignore[attr-defined]


def statement_prefill_raise(stage: Stage | None, data: dict[str, Any]) -> dict[str, str]:
    """The written statement as the raise form's own answers already give it (WCAG 2.2
    3.3.7, redundant entry): the issue and what the chair wants, as they typed them; what
    has been done, the reason for going straight to the stage where one was given, else
    the plain fact that no earlier stage of the procedure was used."""
    reason = (data.get("reason") or "").strip()
    done = reason or (
        f"No earlier stage of this procedure has been used: raised at {stage.name}."
        if stage is not None
        else ""
    )
    return {
        "issue": (data.get("summary") or "").strip(),
        "actions": done,
        "wanted": (data.get("desired_outcome") or "").strip(),
    }


def statement_prefill_escalate(escalation: Escalation) -> dict[str, str]:
    """The written statement as the escalation already gives it: the last statement made
    on it, where there is one, and what has happened since; else the escalation's own
    issue and wanted outcome, and the steps so far."""
    steps = list(escalation.steps.order_by("sequence"))
    earlier = next((s for s in reversed(steps) if s.statement_issue), None)
    since = steps[steps.index(earlier) :] if earlier is not None else steps
    done = [earlier.statement_actions] if earlier is not None else []
    for step in since:
        asked = f"{step.stage_name}: asked of {step.addressee_name} on {_day(step.raised_at)}"
        replied = f"replied on {_day(step.responded_at)}." if step.responded_at else "no reply."
        done.append(f"{asked}; {replied}")
    if earlier is not None:
        return {
            "issue": earlier.statement_issue,
            "actions": "\n".join(d for d in done if d),
            "wanted": earlier.statement_wanted,
        }
    return {
        "issue": escalation.summary,
        "actions": "\n".join(done),
        "wanted": escalation.desired_outcome,
    }


def _day(moment: datetime) -> str:
    day = timezone.localdate(moment)
    return f"{day.day} {day:%b %Y}"


def fill_statement(form: forms.Form, cleaned: dict[str, Any], stage: Stage | None) -> None:
    """The statement as sent: for a stage that asks for one, each part left blank filled in
    from `form.statement_prefill` (shown on the page that comes back, the preview, to check
    before the second press); for any other stage, none (its boxes may hold the filled-in
    text the stage does not want)."""
    if "statement_issue" not in form.fields:
        return
    if stage is None or not stage.statement_required:
        for key in STATEMENT_KEYS:
            cleaned[f"statement_{key}"] = ""
        return
    prefill = form.statement_prefill(cleaned)  # type: ignore[attr-defined]
    data = form.data.copy()  # type: ignore[attr-defined]  # a QueryDict when bound
    for key in STATEMENT_KEYS:
        name = f"statement_{key}"
        if not (cleaned.get(name) or "").strip() and prefill.get(key):
            cleaned[name] = data[form.add_prefix(name)] = prefill[key]
    form.data = data


def _timescale_fields(form: forms.Form, stages: list[Stage]) -> None:
    """The chair's own timescale, where a stage leaves it to the chair or lets the chair
    vary the policy's (with a reason: the two go together, the service checks)."""
    varying = [s for s in stages if s.chair_may_vary_timescale and not s.chair_sets_timescale]
    if not varying and not any(s.chair_sets_timescale for s in stages):
        return
    # The policy's own timescale beside each stage that may be varied: the default.
    defaults = "; ".join(f"{s.name}: {s.timescale_label}" for s in varying)
    form.fields["response_days"] = forms.IntegerField(
        min_value=1,
        max_value=365,
        required=False,
        label="Timescale in days (if you set it)"
        if any(s.chair_sets_timescale for s in stages)
        else "A different timescale, in days (optional)",
        help_text=f"Leave blank to keep the policy's timescale ({defaults})." if varying else "",
        error_messages={"invalid": "Give the timescale as a whole number of days."},
    )
    if varying:
        form.fields["timescale_reason"] = forms.CharField(
            label="Why you are varying the timescale",
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="Needed when you set a different timescale; shown on the step.",
        )


def statement_from(data: dict[str, Any]) -> dict[str, str]:
    return {key: data.get(f"statement_{key}", "") or "" for key in STATEMENT_KEYS}


class RaiseForm(GovukForm):
    def __init__(
        self, *args: Any, staff: StaffMember, policy: Policy, child: Child, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy
        entry = rules.enterable_stages(policy, staff)
        prefetch_related_objects(entry, "role", "also_roles")

        # The child and their brothers and sisters (same surname or same social worker),
        # only among the children this user may see: the list must not reveal others.
        family = visible_children(staff).filter(
            Q(pk=child.pk)
            | Q(last_name=child.last_name, team=child.team)
            | (Q(social_worker=child.social_worker) if child.social_worker_id else Q(pk=child.pk))
        )
        # Kept typed for the page's access log: every child the form names is a read.
        self.offered_children: QuerySet[Child] = family.order_by("last_name", "first_name")
        self.fields["children"] = forms.ModelMultipleChoiceField(
            queryset=self.offered_children,
            widget=forms.CheckboxSelectMultiple,
            initial=[child.pk],
            label="Children this concern is about",
            error_messages={"required": "Choose at least one child."},
        )
        if policy.kind == "about_chair":
            chairs = StaffMember.objects.filter(
                authority=staff.authority, role__is_chair=True, is_active=True
            ).select_related("user", "role")
            # Named by the chairs' own role: a reverse procedure's chair_title names the
            # people who raise under it ("Social Worker / Team Manager"), not the chair.
            titles = {c.role.name for c in chairs}
            title = titles.pop() if len(titles) == 1 else "conference chair"
            self.fields["about_staff"] = StaffChoiceField(
                queryset=chairs,
                label=f"The {title} the concern is about",
                error_messages={"required": f"Choose the {title} the concern is about."},
            )
        self.fields["conference"] = _conference_field(policy, child, entry)
        items = policy.categories.filter(parent__isnull=False).select_related("parent")
        if items.exists():
            field = self.fields["categories"] = CategoryField(
                queryset=items.order_by("parent__order", "order"),
                widget=forms.CheckboxSelectMultiple,
                label="Concern categories",
                help_text="Choose every one that applies.",
                error_messages={"required": "Choose at least one concern category."},
            )
            field.several_themes = len({i.parent_id for i in items}) > 1
        if policy.categories.filter(good_practice=True).exists():
            self.fields["nature"] = forms.ChoiceField(
                choices=Nature.choices,
                initial=Nature.CONCERN,
                widget=forms.RadioSelect,
                label="Is this a concern or a record of good practice?",
            )
        self.fields["summary"] = forms.CharField(
            label="The issue",
            widget=forms.Textarea(attrs=TEXT),
            help_text="What is happening, and the impact on the child.",
            error_messages={"required": "Describe the issue."},
        )
        self.fields["desired_outcome"] = forms.CharField(
            label="What you want to happen (optional)",
            required=False,
            widget=forms.Textarea(attrs=TEXT),
        )
        self.fields["stage"] = StageChoiceField(
            queryset=Stage.objects.filter(pk__in=[s.pk for s in entry]).order_by("order"),
            initial=entry[0].pk if entry else None,
            widget=forms.RadioSelect,
            empty_label=None,
            label="Where to start",
            help_text=_bypass_hint(policy),
            error_messages={"required": "Choose where to start."},
        )
        if rules.reason_may_be_needed(policy, entry):
            self.fields["reason"] = forms.CharField(
                label="Why you are skipping stages",
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text="Needed when you start beyond the first stage"
                + (" (the policy asks for a reason)." if policy.bypass_reason_required else "."),
            )
        # The immediate-safety route leads to a stage the chair may not otherwise start at
        # (Cwm Taf's CP Coordinator): its people are offered too, for when it is ticked.
        safety = rules.safety_stage(policy)
        route = (
            [safety]
            if safety is not None
            and safety not in entry
            and rules.stage_refusal(policy, safety, staff, immediate_safety=True) is None
            else []
        )
        prefetch_related_objects(route, "role", "also_roles")
        suggested = default_responder(entry[0], [child]) if entry else None
        self.fields["responder"] = StaffChoiceField(
            queryset=responders_for(staff, entry + route, exclude=staff),
            initial=suggested,
            label="Who should respond",
            # Said only when there is someone to suggest (a reverse procedure's stages are
            # addressed to roles outside the child's line, so there is no default there).
            help_text=f"Suggested: {suggested.display_name}, the {suggested.role.name} in the "
            "child's allocated team line."
            if suggested is not None
            else "",
            error_messages={"required": "Choose who should respond."},
        )
        _partner_field(self, staff, entry)
        _addressees_field(self, staff, entry, [child])
        _timescale_fields(self, entry)
        if any(s.statement_required for s in entry):
            _statement_fields(self, entry, follow={"issue": "summary", "wanted": "desired_outcome"})
        if policy.immediate_safety_route:
            self.fields["immediate_safety"] = forms.BooleanField(
                required=False,
                label="This is about a child's immediate safety",
                help_text=policy.immediate_safety_route,
            )
        # Made when the page is first shown and posted back with every press (the preview
        # included), so the same form sent twice raises one escalation.
        self.fields["request_token"] = forms.UUIDField(
            widget=forms.HiddenInput,
            initial=uuid.uuid4,
            required=False,
            error_messages={"invalid": "This form could not be read. Open the raise page again."},
        )

    def statement_prefill(self, cleaned: dict[str, Any]) -> dict[str, str]:
        return statement_prefill_raise(cleaned.get("stage"), cleaned)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        clean_addressees(self, cleaned)
        # The immediate-safety route goes to its own stage, whatever stage was chosen.
        safety = rules.safety_stage(self.policy) if cleaned.get("immediate_safety") else None
        fill_statement(self, cleaned, safety or cleaned.get("stage"))
        return cleaned


class ConferenceChoiceField(forms.ModelChoiceField):
    """Each conference with the last day a concern about it may be raised, where the
    policy has a raise window (rules.raise_window_closes), and by when the first stage is
    to be issued, where it runs an issue-by clock from the conference."""

    policy: Policy  # set by _conference_field
    closures: frozenset[date]
    clocked_stage: Stage | None = None

    def label_from_instance(self, obj: Conference) -> str:
        label = f"{obj.get_kind_display()} on {rules.short_day(obj.date)}"
        last = rules.raise_window_closes(self.policy, obj, closures=self.closures)
        if last is not None:
            label = f"{label}: raise by {rules.short_day(last)}"
        issue_by = issue_by_deadline(
            stage=self.clocked_stage,
            authority=self.policy.authority,
            start=obj.date,
            closures=self.closures,
        )
        if issue_by is not None:
            label = f"{label}{',' if last else ':'} issue by {rules.short_day(issue_by)}"
        return label


def _conference_field(policy: Policy, child: Child, entry: list[Stage]) -> ConferenceChoiceField:
    days = policy.raise_window_working_days
    conferences = Conference.objects.filter(child=child)
    # Where every stage on offer runs an issue-by clock from the conference, it is needed
    # (the service refuses without it: rules.issue_clock_refusal).
    clocked = bool(entry) and all(rules.issue_clock_refusal(s, None) for s in entry)
    required = days is not None or clocked
    field = ConferenceChoiceField(
        queryset=conferences,
        required=required,
        label="Conference it arose from" + ("" if required else " (optional)"),
        error_messages={"required": "Choose the conference the concern arose from."},
    )
    field.policy = policy
    field.closures = (
        policy.authority.closure_dates()
        if days is not None or any(s.issue_within_days is not None for s in entry)
        else frozenset()
    )
    first_clocked = next((s for s in entry if s.issue_within_days is not None), None)
    if first_clocked is not None:
        field.clocked_stage = first_clocked
        within = first_clocked.issue_within_days
        unit = "working day" if first_clocked.day_type == "working" else "day"
        field.help_text = (
            ("" if clocked else "If you start there, ")
            + f"{first_clocked.name} is to be issued within {within} "
            f"{unit}{'s' if within != 1 else ''} of the conference."
        )
    if days is not None:
        # The window, said where the chair chooses: the service refuses outside it.
        latest = conferences.order_by("-date").first()
        window = f"Raise within {days} working day{'s' if days != 1 else ''} of the conference"
        if latest is not None:
            last = rules.raise_window_closes(policy, latest, closures=field.closures)
            assert last is not None
            field.help_text = (
                f"{window}: by {rules.short_day(last)} for the conference on "
                f"{rules.short_day(latest.date)}."
            )
        else:
            # Conferences come from the case-management import (or admin), not this form.
            field.help_text = (
                f"{window}. No conference is recorded for this child yet: ask your "
                "administrator to add it from the case-management system."
            )
    return field


def _bypass_hint(policy: Policy) -> str:
    if policy.bypass_rule == BypassRule.ANY:
        hint = "This policy lets you bypass any stage."
    elif policy.bypass_rule == BypassRule.DIRECT_ENTRY_ONLY:
        hint = "This policy lets you go straight only to the stages listed."
    else:
        hint = "This policy does not allow stages to be skipped."
    if any(s.may_pass_over for s in policy.stages.all()):
        hint += (
            " Optional stages, and conditional ones that do not apply, may be passed over "
            "without a reason."
        )
    return hint


class StepActionForm(GovukForm):
    """An action on the escalation as the person saw it: `from_step` names the open step
    on their page, so a second submit or an action someone else got in first is refused."""

    from_step = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, escalation: Escalation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_step = escalation.open_step()

    def clean(self) -> dict[str, Any]:
        """A page for a step that is no longer the open one (a second submit, another tab, a
        step of another escalation): one plain message, not errors about choices that moved."""
        super().clean()
        cleaned = self.cleaned_data
        posted = (self.data.get(self.add_prefix("from_step")) or "").strip()
        if posted and posted != str(self.open_step.pk if self.open_step else None):
            self.errors.clear()
            raise forms.ValidationError(MOVED_ON)
        cleaned["from_step"] = self.open_step if posted else None
        return cleaned


class EscalateForm(StepActionForm):
    def __init__(
        self, *args: Any, staff: StaffMember, escalation: Escalation, **kwargs: Any
    ) -> None:
        super().__init__(*args, escalation=escalation, **kwargs)
        policy = escalation.policy
        offered = rules.enterable_stages(escalation, staff)
        prefetch_related_objects(offered, "role", "also_roles")
        next_stage = rules.next_stage(escalation)
        if next_stage not in offered:
            next_stage = offered[0] if offered else None
        self.offered = offered
        # Nothing this person may escalate to: the rule's reason, shown instead of choices.
        self.refusal = (
            None if offered else rules.action_refusal(staff, escalation, rules.Action.ESCALATE)
        )
        self.fields["stage"] = StageChoiceField(
            queryset=Stage.objects.filter(pk__in=[s.pk for s in offered]).order_by("order"),
            initial=next_stage.pk if next_stage else None,
            widget=forms.RadioSelect,
            empty_label=None,
            label="Stage to escalate to",
            help_text=_bypass_hint(policy),
            error_messages={"required": "Choose the stage to escalate to."},
        )
        self.fields["responder"] = StaffChoiceField(
            queryset=responders_for(staff, offered, exclude=staff),
            initial=(
                default_responder(next_stage, list(escalation.children.all()))
                if next_stage
                else None
            ),
            label="Who should respond",
            error_messages={"required": "Choose who should respond."},
        )
        _partner_field(self, staff, offered)
        _addressees_field(self, staff, offered, list(escalation.children.all()))
        if rules.reason_may_be_needed(escalation, offered):
            self.fields["reason"] = forms.CharField(
                label="Why you are skipping stages (if you are)",
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        _timescale_fields(self, offered)
        if any(s.statement_required for s in offered):
            _statement_fields(self, offered)
            self._prefill = statement_prefill_escalate(escalation)
            for key, text in self._prefill.items():
                self.fields[f"statement_{key}"].initial = text

    def statement_prefill(self, cleaned: dict[str, Any]) -> dict[str, str]:
        return self._prefill

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.refusal is not None:
            self.errors.clear()
            raise forms.ValidationError(self.refusal.message)
        clean_addressees(self, cleaned)
        fill_statement(self, cleaned, cleaned.get("stage"))
        return cleaned


class RespondForm(GovukForm):
    def __init__(self, *args: Any, step: Step, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        meeting = step.mode == "meeting"
        self.fields["response"] = forms.CharField(
            label="Record of the meeting and its decision" if meeting else "Your response",
            widget=forms.Textarea(attrs={"rows": 8}),
            error_messages={"required": "Write the response."},
        )
        if meeting:
            self.fields["meeting_date"] = GovukDateField(
                what="Date of the meeting",
                label="Date of the meeting",
                help_text="For example, 27 3 2026",
                error_messages={"required": "Enter the date of the meeting"},
            )
            self.fields["meeting_attendees"] = forms.CharField(
                label="Who attended", required=False, widget=forms.Textarea(attrs={"rows": 3})
            )
        self.fields["attachments"] = MultipleFileField(
            required=False,
            label="Attach files (optional)",
            help_text="Up to 5 files: PDF, Word, OpenDocument text, PNG, JPEG or plain text, "
            "each up to 10 MB.",
        )


class ResolveForm(StepActionForm):
    outcome = forms.CharField(
        label="Outcome",
        widget=forms.Textarea(attrs=TEXT),
        help_text="How the concern was resolved.",
        error_messages={"required": "Record the outcome."},
    )
    outcome_for_child = forms.CharField(
        label="What changed for the child (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FinalDecisionForm(StepActionForm):
    decision = forms.CharField(
        label="The final decision",
        widget=forms.Textarea(attrs=TEXT),
        error_messages={"required": "Record the decision."},
    )
    outcome_for_child = forms.CharField(
        label="What changed for the child (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class WithdrawForm(StepActionForm):
    reason = forms.CharField(
        label="Why you are withdrawing this escalation",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the escalation is being withdrawn."},
    )


class DiscussionForm(StepActionForm):
    """The chair's record of the informal discussion: what was agreed, then what next."""

    RESOLVED = "resolved"
    FORMAL = "formal"

    agreed = forms.CharField(
        label="What was agreed",
        widget=forms.Textarea(attrs=TEXT),
        help_text="Who you spoke to, when, and what was agreed.",
        error_messages={"required": "Record what was agreed in the discussion."},
    )
    then = forms.ChoiceField(
        label="Did the discussion settle the concern?",
        choices=[
            (RESOLVED, "Yes: resolve the escalation"),
            (FORMAL, "No: take it to the formal process"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the discussion settled the concern."},
    )
    outcome_for_child = forms.CharField(
        label="What changed for the child (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# --- amending the open step: an extension, a change of addressee ------------------------


class ExtendForm(StepActionForm):
    """A later deadline for the open step, with the reason (rules.extend_refusal)."""

    def __init__(
        self, *args: Any, staff: StaffMember, escalation: Escalation, **kwargs: Any
    ) -> None:
        super().__init__(*args, escalation=escalation, **kwargs)
        # Nothing to extend: the rule's reason, shown instead of a form that would fail.
        self.refusal = rules.extend_refusal(staff, escalation)
        step = self.open_step
        due = step.due_on if step is not None else None
        week = due + timedelta(days=7) if due else None  # the same weekday: a working day
        self.fields["new_due_on"] = GovukDateField(
            what="The new deadline",
            label="New deadline",
            help_text=(
                f"Now due {due:%a} {due.day} {due:%b} {due.year}. Choose a later working day, "
                f"for example {week.day} {week.month} {week.year}."
            )
            if due and week
            else "For example, 27 3 2026",
            error_messages={"required": "Enter the new deadline"},
        )
        self.fields["reason"] = forms.CharField(
            label="Why the deadline is being extended",
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="Shown on the step's record.",
            error_messages={"required": "Say why the deadline is being extended."},
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.refusal is not None:
            self.errors.clear()
            raise forms.ValidationError(self.refusal.message)
        return cleaned


class AddresseeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Addressee) -> str:
        return obj.name


class ReaddressForm(StepActionForm):
    """Someone else to answer the open step (the person asked is on leave, has left …),
    with the reason (rules.readdress_refusal). Offered: the staff holding a role the stage
    is addressed to, as at the raise; on a stage open to partner agencies, the contacts in
    the authority's partner directory too (the service checks both again)."""

    def __init__(
        self, *args: Any, staff: StaffMember, escalation: Escalation, **kwargs: Any
    ) -> None:
        super().__init__(*args, escalation=escalation, **kwargs)
        self.refusal = rules.readdress_refusal(staff, escalation)
        step = self.open_step
        if step is not None and step.completion:
            self.fields["replacing"] = AddresseeChoiceField(
                queryset=step.addressees.filter(responded_at__isnull=True).select_related(
                    "staff__user", "partner"
                ),
                widget=forms.RadioSelect,
                empty_label=None,
                label="Whose part of this stage passes on",
                error_messages={"required": "Choose whose part passes on."},
            )
        if step is not None:
            offered = responders_for(staff, [step.stage], exclude=staff)
            if step.responder_id is not None:
                offered = offered.exclude(pk=step.responder_id)
        else:
            offered = StaffMember.objects.none()
        self.fields["responder"] = StaffChoiceField(
            queryset=offered,
            label="Who should respond instead",
            error_messages={"required": "Choose who should respond instead."},
        )
        partners = _readdress_partners(staff, step)
        if step is not None and partners.exists():
            self.fields["partner"] = PartnerChoiceField(
                queryset=partners,
                required=False,
                label="Or a partner-agency contact",
                help_text=f"{step.stage_name} may be answered by a partner agency. They reply "
                "through an e-mailed link and a one-time code, with no council account.",
            )
            # Either may be chosen; clean() says so in plain words if neither is.
            self.fields["responder"].required = False
        self.fields["reason"] = forms.CharField(
            label="Why the step is going to someone else",
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="For example: on leave until 4 January. Shown on the step's record.",
            error_messages={"required": "Say why the step is going to someone else."},
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.refusal is not None:
            self.errors.clear()
            raise forms.ValidationError(self.refusal.message)
        if "partner" in self.fields and not (cleaned.get("responder") or cleaned.get("partner")):
            self.add_error("responder", "Choose who should respond instead.")
        return cleaned


def _readdress_partners(staff: StaffMember, step: Step | None) -> QuerySet[Partner]:
    """The partner-directory contacts the open step may pass to: only on a stage open to
    partner agencies (Stage.partner_responders), never one it is addressed to now."""
    if step is None or step.stage is None or not step.stage.partner_responders:
        return Partner.objects.none()
    asked = {pk for pk in (step.partner_id, *(a.partner_id for a in step.addressees.all())) if pk}
    partners = Partner.objects.filter(authority=staff.authority, is_active=True)
    return partners.exclude(pk__in=asked).order_by("organisation", "name")
