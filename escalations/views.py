"""Thin views: find the object the user may see (else 404), show a form, call a service."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.backends.utils import csrf_input
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from children.selectors import visible_children
from children.services import access_log_record
from escalations import rules, selectors, services
from escalations.forms import (
    DiscussionForm,
    EscalateForm,
    ExtendForm,
    FinalDecisionForm,
    RaiseForm,
    ReaddressForm,
    ResolveForm,
    RespondForm,
    WithdrawForm,
    addressee_from,
    addressees_from,
    statement_from,
)
from escalations.models import Attachment, Escalation, Step
from notifications.links import step_pk_from_token
from notifications.recipients import StepRecipients
from staff.decorators import StaffRequest, staff_required
from staff.models import Partner, StaffMember


def _refused(form: Any, exc: services.ActionRefused) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def reply_submitted(
    request: HttpRequest, *, actor: StaffMember | Partner, step: Step
) -> tuple[RespondForm, bool]:
    """The reply form for `actor` on `step`, and whether a POSTed reply was recorded (the
    staff response page and the partner's page both answer through this and the one
    service)."""
    if request.method != "POST":
        return RespondForm(step=step), False
    form = RespondForm(request.POST, request.FILES, step=step)
    if not form.is_valid():
        return form, False
    data = form.cleaned_data
    try:
        services.step_respond(
            actor=actor,
            step=step,
            response=data["response"],
            meeting_date=data.get("meeting_date"),
            meeting_attendees=data.get("meeting_attendees", ""),
            attachments=data.get("attachments") or [],
        )
    except services.ActionRefused as exc:
        _refused(form, exc)
        return form, False
    return form, True


def _escalation_or_404(staff: StaffMember, pk: int, *, people: bool = True) -> Escalation:
    # The visibility rule asked of this one escalation: each way in reads a few index
    # entries for it, not all the person may see. `people=False`: the page reads who
    # raised it and whom it is about with the steps' people (selectors.load_the_record),
    # and nine joined tables took PostgreSQL longer to plan than to run.
    # Its authority is the person's own (visible_escalations): that instance, which came
    # with its closure days (staff_of), rather than a join and a query for them.
    related = ["policy", "current_stage", "conference"]
    if people:
        related += ["raised_by__user", "about_staff__user"]
    escalation = get_object_or_404(
        selectors.visible_escalations(staff, pk=pk).select_related(*related), pk=pk
    )
    escalation.authority = staff.authority
    return escalation


def _seen(request: HttpRequest, preview: StepRecipients | None) -> bool:
    """A step is raised only once its sender has seen, by name, exactly who will be told:
    the page posts back the signature of the list it showed."""
    return preview is None or request.POST.get("recipients_seen") == preview.signature


def _tell_unfilled(request: HttpRequest, result: object) -> None:
    step = result if isinstance(result, Step) else None
    if isinstance(result, Escalation):
        step = result.steps.order_by("-sequence").first()
    if step is not None and step.copies_unfilled:
        messages.warning(
            request,
            "The policy also names people nobody holds, so they were not told: "
            + "; ".join(step.copies_unfilled.splitlines())
            + ".",
        )


# --- lists -----------------------------------------------------------------------------


def _log_list(
    request: StaffRequest,
    action: str,
    rows: Sequence[selectors.EscalationRow | selectors.AwaitingRow],
) -> None:
    # The lists name the children of every escalation on them: a read of case data.
    children = [c for row in rows for c in selectors.children_of(row.escalation)]
    access_log_record(user=request.user, action=action, children=children)


@staff_required
@require_safe
def my_escalations(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    today = timezone.localdate()
    # Paged: a chair's history runs to more than a thousand escalations. What waits on
    # their decision heads the first page.
    deciding_listed, others = selectors.my_escalations_listed(staff, today)
    paginator = Paginator(others, selectors.MINE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    shown = [*deciding_listed, *page.object_list] if page.number == 1 else list(page.object_list)
    # Both lists' rows in one load (one query and its prefetches).
    escalations = selectors.escalations_in_order(shown, staff.authority_id, others.open_steps)
    closures = staff.authority.closure_dates()
    awaiting = {pk for pk, _state, _raiser in deciding_listed}
    deciding = selectors.escalation_rows(
        staff, [e for e in escalations if e.pk in awaiting], today, closures=closures
    )
    rows = selectors.escalation_rows(
        staff,
        [e for e in escalations if e.pk not in awaiting],
        today,
        sort=False,
        closures=closures,
    )
    _log_list(request, "my escalations", [*deciding, *rows])
    return render(
        request,
        "escalations/mine.html",
        {
            "staff": staff,
            "deciding": [row.html() for row in deciding],
            "rows": [row.html() for row in rows],
            "page": page,
            "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        },
    )


@staff_required
@require_safe
def todo(request: StaffRequest) -> HttpResponse:
    """The landing page: what this person must do now, each row with its next action."""
    staff = request.staff
    sections = selectors.todo_sections(staff, timezone.localdate())
    children = {
        c for s in sections for row in s.rows for c in selectors.children_of(row.escalation)
    }
    access_log_record(user=request.user, action="to do", children=list(children))
    return render(
        request,
        "escalations/todo.html",
        {"staff": staff, "sections": [section.cells(csrf_input(request)) for section in sections]},
    )


@staff_required
@require_safe
def awaiting_my_response(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    paginator = Paginator(selectors.awaiting_listed(staff), selectors.AWAITING_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    steps = selectors.awaiting_page(list(page.object_list))
    rows = selectors.awaiting_rows(staff, steps, timezone.localdate())
    _log_list(request, "awaiting my response", rows)
    context = {
        "staff": staff,
        "rows": [row.html() for row in rows],
        "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
    }
    return render(request, "escalations/awaiting.html", context)


# --- one escalation --------------------------------------------------------------------


@staff_required
@require_safe
def escalation_detail(request: StaffRequest, pk: int) -> HttpResponse:
    staff = request.staff
    escalation = _escalation_or_404(staff, pk, people=False)
    context = selectors.escalation_context(staff, escalation, timezone.localdate())
    access_log_record(
        user=request.user,
        action="view escalation",
        children=context["children"],
        escalation=escalation,
    )
    return render(request, "escalations/detail.html", context)


@staff_required
@require_safe
def escalation_record(request: StaffRequest, pk: int) -> HttpResponse:
    """The full record for the child's file, laid out for printing."""
    staff = request.staff
    escalation = _escalation_or_404(staff, pk, people=False)
    context = selectors.escalation_context(staff, escalation, timezone.localdate())
    access_log_record(
        user=request.user,
        action="print escalation",
        children=context["children"],
        escalation=escalation,
    )
    context["printed_at"] = timezone.localtime()
    return render(request, "escalations/record.html", context)


def _action(
    request: StaffRequest,
    staff: StaffMember,
    pk: int,
    *,
    form_class: type,
    title: str,
    button: str,
    perform: Callable[[Escalation, dict[str, Any]], object],
    success: str,
    form_kwargs: Callable[[Escalation], dict[str, Any]] | None = None,
    recipients: Callable[[Escalation, dict[str, Any]], StepRecipients] | None = None,
    template: str = "escalations/action.html",
) -> HttpResponse:
    escalation = _escalation_or_404(staff, pk)
    step = escalation.open_step()
    extra = form_kwargs(escalation) if form_kwargs else {"escalation": escalation}
    preview = None
    if request.method == "POST":
        form = form_class(request.POST, **extra)
        if form.is_valid():
            try:
                preview = recipients(escalation, form.cleaned_data) if recipients else None
                if _seen(request, preview):
                    result = perform(escalation, form.cleaned_data)
            except services.ActionRefused as exc:
                _refused(form, exc)
                preview = None
            else:
                if _seen(request, preview):
                    messages.success(request, success)
                    _tell_unfilled(request, result)
                    return redirect("escalations:detail", pk=escalation.pk)
    else:
        form = form_class(initial={"from_step": step.pk if step else None}, **extra)
    context = selectors.escalation_context(staff, escalation, timezone.localdate())
    context |= {"form": form, "title": title, "button": button, "preview": preview}
    # The action page shows the whole escalation: a read like the escalation page.
    # Reached only through escalations/urls.py, whose routes are all named.
    match = request.resolver_match
    page = match.url_name if match and match.url_name else ""
    access_log_record(
        user=request.user,
        action=f"view {page.replace('_', ' ')} page",
        children=context["children"],
        escalation=escalation,
    )
    return render(request, template, context)


@staff_required
@require_http_methods(["GET", "POST"])
def escalation_escalate(request: StaffRequest, pk: int) -> HttpResponse:
    staff = request.staff

    def perform(escalation: Escalation, data: dict[str, Any]) -> object:
        return services.escalation_escalate(
            actor=staff,
            escalation=escalation,
            stage=data["stage"],
            **addressee_from(data),
            reason=data.get("reason", ""),
            response_days=data.get("response_days"),
            timescale_reason=data.get("timescale_reason") or "",
            statement=statement_from(data),
            from_step=data["from_step"],
            addressees=addressees_from(data),
        )

    return _action(
        request,
        staff,
        pk,
        form_class=EscalateForm,
        title="Escalate to a later stage",
        button="Escalate",
        perform=perform,
        success="Escalated. The responder has been notified.",
        form_kwargs=lambda e: {"staff": staff, "escalation": e},
        recipients=lambda e, data: services.escalation_escalate_recipients(
            actor=staff,
            escalation=e,
            stage=data["stage"],
            **addressee_from(data),
            reason=data.get("reason", ""),
            response_days=data.get("response_days"),
            timescale_reason=data.get("timescale_reason") or "",
            statement=statement_from(data),
            from_step=data["from_step"],
            addressees=addressees_from(data),
        ),
    )


@staff_required
@require_http_methods(["GET", "POST"])
def escalation_resolve(request: StaffRequest, pk: int) -> HttpResponse:
    staff = request.staff
    return _action(
        request,
        staff,
        pk,
        form_class=ResolveForm,
        title="Resolve: the response is satisfactory",
        button="Resolve escalation",
        perform=lambda e, d: services.escalation_resolve(
            actor=staff,
            escalation=e,
            outcome=d["outcome"],
            outcome_for_child=d["outcome_for_child"],
            from_step=d["from_step"],
        ),
        success="Resolved.",
    )


@staff_required
@require_http_methods(["GET", "POST"])
def escalation_final_decision(request: StaffRequest, pk: int) -> HttpResponse:
    staff = request.staff
    return _action(
        request,
        staff,
        pk,
        form_class=FinalDecisionForm,
        title="Record the final decision",
        button="Record final decision",
        perform=lambda e, d: services.escalation_record_final_decision(
            actor=staff,
            escalation=e,
            decision=d["decision"],
            outcome_for_child=d["outcome_for_child"],
            from_step=d["from_step"],
        ),
        success="Final decision recorded. The escalation is closed.",
    )


@staff_required
@require_http_methods(["GET", "POST"])
def escalation_withdraw(request: StaffRequest, pk: int) -> HttpResponse:
    staff = request.staff
    return _action(
        request,
        staff,
        pk,
        form_class=WithdrawForm,
        title="Withdraw this escalation",
        button="Withdraw escalation",
        perform=lambda e, d: services.escalation_withdraw(
            actor=staff, escalation=e, reason=d["reason"], from_step=d["from_step"]
        ),
        success="Withdrawn.",
    )


@staff_required
@require_http_methods(["GET", "POST"])
def step_extend(request: StaffRequest, pk: int) -> HttpResponse:
    """A later deadline for the open step, with the reason."""
    staff = request.staff
    return _action(
        request,
        staff,
        pk,
        form_class=ExtendForm,
        title="Extend the deadline",
        button="Extend the deadline",
        perform=lambda e, d: services.step_extend(
            actor=staff,
            escalation=e,
            new_due_on=d["new_due_on"],
            reason=d["reason"],
            from_step=d["from_step"],
        ),
        success="Deadline extended. The person asked has been told the new date.",
        form_kwargs=lambda e: {"staff": staff, "escalation": e},
        template="escalations/extend.html",
    )


@staff_required
@require_http_methods(["GET", "POST"])
def step_readdress(request: StaffRequest, pk: int) -> HttpResponse:
    """The open step to someone else (the person asked is on leave …), with the reason."""
    staff = request.staff
    return _action(
        request,
        staff,
        pk,
        form_class=ReaddressForm,
        title="Change who responds",
        button="Send it to them instead",
        perform=lambda e, d: services.step_readdress(
            actor=staff,
            escalation=e,
            responder=d["responder"],
            partner=d.get("partner"),
            replacing=d.get("replacing"),
            reason=d["reason"],
            from_step=d["from_step"],
        ),
        success="Done. The new person has been sent the link, and the person first asked "
        "has been told.",
        form_kwargs=lambda e: {"staff": staff, "escalation": e},
        template="escalations/readdress.html",
    )


# Where the chase button may send the person back to (never an address from the request).
CHASE_RETURNS = {"todo": "escalations:todo", "detail": "escalations:detail"}


@staff_required
@require_POST
def escalation_chase(request: StaffRequest, pk: int) -> HttpResponse:
    """Send a reminder now (a button on the escalation page and the to-do list)."""
    staff = request.staff
    escalation = _escalation_or_404(staff, pk)
    try:
        step = services.step_chase(actor=staff, escalation=escalation)
    except services.ActionRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Reminder sent to {step.addressee_name}.")
    back = CHASE_RETURNS.get(request.POST.get("back", ""), "escalations:detail")
    if back == "escalations:todo":
        return redirect(back)
    return redirect(back, pk=escalation.pk)


@staff_required
@require_http_methods(["GET", "POST"])
def escalation_discussion(request: StaffRequest, pk: int) -> HttpResponse:
    staff = request.staff
    resolved = request.POST.get("then") == DiscussionForm.RESOLVED
    response = _action(
        request,
        staff,
        pk,
        form_class=DiscussionForm,
        title="Record the informal discussion",
        button="Record the discussion",
        perform=lambda e, d: services.escalation_record_discussion(
            actor=staff,
            escalation=e,
            agreed=d["agreed"],
            resolved=d["then"] == DiscussionForm.RESOLVED,
            outcome_for_child=d["outcome_for_child"],
            from_step=d["from_step"],
        ),
        success="Discussion recorded. The escalation is resolved."
        if resolved
        else "Discussion recorded. Now choose the formal stage and who it goes to.",
    )
    if response.status_code == 302 and not resolved:
        return redirect("escalations:escalate", pk=pk)
    return response


# --- raising ---------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def escalation_raise(request: StaffRequest, child_pk: int) -> HttpResponse:
    staff = request.staff
    child = get_object_or_404(visible_children(staff).select_related("social_worker"), pk=child_pk)
    policies = list(selectors.policies_for(staff))
    if not policies:
        return render(request, "escalations/cannot_raise.html", {"staff": staff}, status=403)
    chosen = request.POST.get("policy") or request.GET.get("policy")
    # The version in force today of the procedure named (docs/architecture.md §3); a posted
    # form keeps the version it was made for, and the raise says if that has changed.
    policy = (
        selectors.policy_to_raise(staff, chosen, as_named=request.method == "POST")
        if chosen
        else None
    )
    if policy is None:
        if len(policies) > 1:
            return render(
                request, "escalations/choose_policy.html", {"child": child, "policies": policies}
            )
        policy = policies[0]
    preview = None
    if request.method == "POST":
        form = RaiseForm(request.POST, staff=staff, policy=policy, child=child)
        if form.is_valid():
            data = form.cleaned_data
            answers = {
                "actor": staff,
                "policy": policy,
                "children": data["children"],
                "categories": data.get("categories") or [],
                "summary": data["summary"],
                "desired_outcome": data.get("desired_outcome", ""),
                "stage": None if data.get("immediate_safety") else data["stage"],
                **addressee_from(data),
                # The immediate-safety route picks its own stage: the people ticked were
                # for the stage chosen on the form.
                "addressees": [] if data.get("immediate_safety") else addressees_from(data),
                "reason": data.get("reason", ""),
                "immediate_safety": bool(data.get("immediate_safety")),
                "nature": data.get("nature") or "concern",
                "about_staff": data.get("about_staff"),
                "conference": data.get("conference"),
                "response_days": data.get("response_days"),
                "timescale_reason": data.get("timescale_reason") or "",
                "statement": statement_from(data),
                "request_token": data.get("request_token"),
            }
            try:
                preview = services.escalation_raise_recipients(**answers)
                if _seen(request, preview):
                    escalation = services.escalation_raise(**answers)
            except services.AlreadyRaised as exc:
                messages.info(request, exc.message)
                return redirect("escalations:detail", pk=exc.escalation.pk)
            except services.ActionRefused as exc:
                _refused(form, exc)
                preview = None
            else:
                if _seen(request, preview):
                    messages.success(request, f"{escalation.reference} raised.")
                    _tell_unfilled(request, escalation)
                    return redirect("escalations:detail", pk=escalation.pk)
    else:
        form = RaiseForm(staff=staff, policy=policy, child=child)
    access_log_record(user=request.user, action="raise form", children=form.offered_children)
    return render(
        request,
        "escalations/raise.html",
        {"form": form, "policy": policy, "child": child, "staff": staff, "preview": preview},
    )


# --- responding ------------------------------------------------------------------------


@login_required
def step_link(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: check it, then move to a clean URL so the token leaves the address bar."""
    step_pk = step_pk_from_token(token)
    staff = getattr(request, "staff", None)
    step = Step.objects.filter(pk=step_pk).first() if step_pk else None
    if step is None or staff is None or not rules.is_addressed_to(staff, step):
        return render(request, "escalations/link_refused.html", status=403)
    if not step.is_open:
        # docs/architecture.md §5: the link works only while its step is open. After that it says so and
        # shows nothing of the case (the escalation itself stays on the user's own lists).
        return render(request, "escalations/link_closed.html", status=410)
    return redirect("escalations:respond", pk=step.pk)


@staff_required
@require_http_methods(["GET", "POST"])
def step_respond(request: StaffRequest, pk: int) -> HttpResponse:
    staff = request.staff
    step = Step.objects.filter(pk=pk, escalation__authority=staff.authority).first()
    if step is None:
        raise Http404
    if not rules.is_addressed_to(staff, step):
        return render(request, "escalations/link_refused.html", status=403)
    escalation = step.escalation
    can_respond = rules.respond_refusal(staff, step) is None
    form = None
    if can_respond:
        form, recorded = reply_submitted(request, actor=staff, step=step)
        if recorded:
            messages.success(request, "Your response has been recorded. Thank you.")
            return redirect("escalations:respond", pk=step.pk)
    elif request.method == "POST":
        messages.info(
            request,
            "You have already responded to this step."
            if rules.has_replied(staff, step)
            else "This step is closed: your response could not be recorded.",
        )
    access_log_record(
        user=request.user,
        action="view step",
        children=list(escalation.children.all()),
        escalation=escalation,
    )
    context = selectors.escalation_context(staff, escalation, timezone.localdate())
    # On a stage addressed to several people: this person's own part, with its clock.
    mine = next(
        (
            a
            for row in context["step_rows"]
            if row.step.pk == step.pk
            for a in row.addressees
            if a.addressee.staff_id == staff.pk
        ),
        None,
    )
    context |= {"step": step, "form": form, "my_part": mine}
    return render(request, "escalations/respond.html", context)


@staff_required
@require_safe
def attachment_download(request: StaffRequest, pk: int) -> HttpResponseBase:
    staff = request.staff
    attachment = get_object_or_404(
        Attachment.objects.filter(
            step__escalation__in=selectors.visible_escalations(staff).values("pk")
        ).select_related("step__escalation"),
        pk=pk,
    )
    escalation = attachment.step.escalation
    access_log_record(
        user=request.user,
        action="download attachment",
        children=list(escalation.children.all()),
        escalation=escalation,
    )
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
