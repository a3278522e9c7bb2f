"""The chair's and manager's forms. The stages offered are the rules' (escalations/rules.py),
so a form never offers what the service would refuse; the services check again."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.db.models import Q, QuerySet, prefetch_related_objects

from children.models import Child, Conference
from children.selectors import visible_children
from config.forms import DateInput, GovukForm
from escalations import rules
from escalations.models import Escalation, Nature, Step
from escalations.rules import default_responder
from escalations.services import MOVED_ON
from policies.models import BypassRule, ConcernCategory, Policy, Stage
from staff.models import StaffMember

TEXT = {"rows": 4}


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: StaffMember) -> str:
        agency = f", {obj.agency}" if obj.agency else ""
        return f"{obj.display_name} — {obj.role.name}{agency}"


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Stage) -> str:
        return f"{obj.name} ({obj.timescale_label})"


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


def _statement_fields(form: forms.Form, stages: list[Stage]) -> None:
    names = ", ".join(s.name for s in stages if s.statement_required)
    form.fields["statement_issue"] = forms.CharField(
        label="Written statement: the issue",
        required=False,
        widget=forms.Textarea(attrs=TEXT),
        help_text=f"Only for {names}, where the policy asks for a written statement.",
    )
    form.fields["statement_actions"] = forms.CharField(
        label="Written statement: what you have done to try to resolve it",
        required=False,
        widget=forms.Textarea(attrs=TEXT),
    )
    form.fields["statement_wanted"] = forms.CharField(
        label="Written statement: what you want to happen",
        required=False,
        widget=forms.Textarea(attrs=TEXT),
        help_text="Copies of the earlier steps are attached to the statement automatically.",
    )


def statement_from(data: dict[str, Any]) -> dict[str, str]:
    return {key: data.get(f"statement_{key}", "") or "" for key in ("issue", "actions", "wanted")}


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
            self.fields["about_staff"] = StaffChoiceField(
                queryset=StaffMember.objects.filter(
                    authority=staff.authority, role__is_chair=True, is_active=True
                ).select_related("user", "role"),
                label=f"The {policy.chair_title or 'chair'} the concern is about",
                error_messages={"required": "Choose the chair the concern is about."},
            )
        self.fields["conference"] = forms.ModelChoiceField(
            queryset=Conference.objects.filter(child=child),
            required=False,
            label="Conference it arose from (optional)",
        )
        items = policy.categories.filter(parent__isnull=False).select_related("parent")
        if items.exists():
            field = self.fields["categories"] = CategoryField(
                queryset=items.order_by("parent__order", "order"),
                widget=forms.CheckboxSelectMultiple,
                required=False,
                label="Concern categories",
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
        self.fields["reason"] = forms.CharField(
            label="Why you are skipping stages",
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="Needed when you start beyond the first stage"
            + (" (the policy asks for a reason)." if policy.bypass_reason_required else "."),
        )
        self.fields["responder"] = StaffChoiceField(
            queryset=responders_for(staff, entry, exclude=staff),
            initial=default_responder(entry[0], [child]) if entry else None,
            label="Who should respond",
            help_text="Defaults to the manager in the child's allocated team line.",
            error_messages={"required": "Choose who should respond."},
        )
        if any(s.chair_sets_timescale for s in entry):
            self.fields["response_days"] = forms.IntegerField(
                min_value=1,
                max_value=365,
                required=False,
                label="Timescale in days (if you set it)",
            )
        if any(s.statement_required for s in entry):
            _statement_fields(self, entry)
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


def _bypass_hint(policy: Policy) -> str:
    if policy.bypass_rule == BypassRule.ANY:
        return "This policy lets you bypass any stage."
    if policy.bypass_rule == BypassRule.DIRECT_ENTRY_ONLY:
        return "This policy lets you go straight only to the stages listed."
    return "This policy does not allow stages to be skipped."


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
        self.fields["reason"] = forms.CharField(
            label="Why you are skipping stages (if you are)",
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
        if any(s.chair_sets_timescale for s in offered):
            self.fields["response_days"] = forms.IntegerField(
                min_value=1,
                max_value=365,
                required=False,
                label="Timescale in days (if you set it)",
            )
        if any(s.statement_required for s in offered):
            _statement_fields(self, offered)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.refusal is not None:
            self.errors.clear()
            raise forms.ValidationError(self.refusal.message)
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
            self.fields["meeting_date"] = forms.DateField(
                label="Date of the meeting",
                widget=DateInput,
                error_messages={
                    "required": "Give the date of the meeting.",
                    "invalid": "Enter the meeting date as a real date, for example 27 3 2026.",
                },
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
